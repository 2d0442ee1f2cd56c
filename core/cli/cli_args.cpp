#include "core/cli/cli_args.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/errors.h"
#include "core/convert/keep_fp32_rules.h"

namespace ts2coreml::core {

namespace {

/// The DTYPE of `--input NAME:SHAPE:DTYPE`, or nullopt for a word that names none.
std::optional<InputDtype> ParseInputDtype(absl::string_view word) {
  for (InputDtype d : {InputDtype::kFp32, InputDtype::kFp16, InputDtype::kInt32, InputDtype::kInt64,
                       InputDtype::kBool, InputDtype::kUint8}) {
    if (word == InputDtypeName(d)) return d;
  }
  return std::nullopt;
}

/// Parses a calibration option of convert at `args[*i]` (--calibrate, --calibration-seed,
/// --calibration-data) into `*request`; false when it is none. `*error` reports a bad value.
bool ParseCalibrationFlag(const std::vector<std::string>& args, size_t* i,
                          CalibrationRequest* request, absl::Status* error) {
  const std::string& a = args[*i];
  if (a != "--calibrate" && a != "--calibration-seed" && a != "--calibration-data") return false;
  if (*i + 1 >= args.size()) {
    *error = Error(ErrorClass::kUsage, absl::StrCat(a, " needs a value"));
    return true;
  }
  const std::string& v = args[++*i];
  if (a == "--calibration-data") {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size() ||
        !request->files.emplace(v.substr(0, eq), v.substr(eq + 1)).second) {
      *error = Error(
          ErrorClass::kUsage,
          absl::StrCat("--calibration-data ", v, ": write NAME=FILE.npy, once per model input"));
    }
    return true;
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < 0 || (a == "--calibrate" && (n < 1 || n > 1000))) {
    *error = Error(ErrorClass::kUsage,
                   absl::StrCat(a, " ", v,
                                a == "--calibrate" ? ": give a number of runs from 1 to 1000"
                                                   : ": give a non-negative integer seed"));
    return true;
  }
  if (a == "--calibrate") {
    request->random_runs = static_cast<int>(n);
  } else {
    request->seed = static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<InputSpec> ParseInputSpec(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return Error(
        ErrorClass::kInputSpec,
        absl::StrCat("--input '", text, "': ", why,
                     "; expected NAME:SHAPE[:DTYPE] such as x:1x3x224x224 or ids:1x128:int64"));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no ':' between name and shape");
  InputSpec spec;
  absl::string_view last = text.substr(colon + 1);
  // A last field that starts with a letter is the DTYPE.
  if (!last.empty() && absl::ascii_isalpha(static_cast<unsigned char>(last[0]))) {
    std::optional<InputDtype> dtype = ParseInputDtype(last);
    if (!dtype) {
      return bad(
          absl::StrCat("unknown DTYPE '", last, "' (use fp32, fp16, int32, int64, uint8 or bool)"));
    }
    spec.dtype = *dtype;
    text = text.substr(0, colon);
    colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no ':' between name and shape");
  }
  spec.name = std::string(text.substr(0, colon));
  if (spec.name.empty()) return bad("empty name");
  const absl::string_view shape = text.substr(colon + 1);
  if (shape.empty()) return bad("empty shape");
  int64_t numel = 1;
  for (absl::string_view dim : absl::StrSplit(shape, 'x')) {
    int64_t d = 0;
    if (!absl::SimpleAtoi(dim, &d)) return bad(absl::StrCat("'", dim, "' is not a number"));
    if (d <= 0) return bad(absl::StrCat("dimension ", d, " is not positive"));
    if (spec.shape.size() == 5) return bad("Core ML inputs have rank 5 at most");
    if (__builtin_mul_overflow(numel, d, &numel) || numel > kMaxInputElements) {
      return bad(absl::StrCat("the shape has more than ", kMaxInputElements,
                              " elements, the most an input may have"));
    }
    spec.shape.push_back(d);
  }
  return spec;
}

namespace {

absl::Status SetPrecision(const std::string& v, ParsedCommand* cmd) {
  if (v == "fp16") {
    cmd->convert.precision.precision = Precision::kFp16;
  } else if (v == "fp32") {
    cmd->convert.precision.precision = Precision::kFp32;
  } else if (v == "auto" && cmd->command == "convert") {
    cmd->convert.precision.precision = Precision::kFp16;
    cmd->convert.precision_auto = true;
  } else {
    return Error(ErrorClass::kUsage,
                 absl::StrCat("--precision ", v,
                              cmd->command == "convert" ? ": use fp16, fp32 or auto"
                                                        : ": use fp16 or fp32"));
  }
  return absl::OkStatus();
}

absl::Status SetTarget(const std::string& v, ParsedCommand* cmd) {
  if (v == "ios15") {
    cmd->convert.precision.target = Target::kIos15;
  } else if (v == "ios16") {
    cmd->convert.precision.target = Target::kIos16;
  } else if (v == "ios17") {
    cmd->convert.precision.target = Target::kIos17;
  } else {
    return Error(ErrorClass::kUsage, absl::StrCat("--target ", v, ": use ios15, ios16 or ios17"));
  }
  return absl::OkStatus();
}

absl::Status SetIoDtype(const std::string& v, ParsedCommand* cmd) {
  if (v == "fp16") {
    cmd->convert.precision.io_dtype = mil::DType::kFloat16;
  } else if (v == "fp32") {
    cmd->convert.precision.io_dtype = mil::DType::kFloat32;
  } else {
    return Error(ErrorClass::kUsage, absl::StrCat("--io-dtype ", v, ": use fp32 or fp16"));
  }
  return absl::OkStatus();
}

absl::Status SetMinCosine(const std::string& v, ParsedCommand* cmd) {
  absl::StatusOr<double> c = ParseNumberFlag("--min-cosine", v, kCosineRange);
  if (!c.ok()) return c.status();
  cmd->convert.min_cosine = *c;
  return absl::OkStatus();
}

absl::Status AddKeepFp32Rule(const std::string& v, ParsedCommand* cmd) {
  absl::StatusOr<KeepFp32Rule> rule = KeepFp32Rule::Parse(v);
  if (!rule.ok()) return rule.status();
  cmd->convert.precision.keep_fp32.push_back(*std::move(rule));
  return absl::OkStatus();
}

absl::Status AddInput(const std::string& v, ParsedCommand* cmd) {
  absl::StatusOr<InputSpec> spec = ParseInputSpec(v);
  if (!spec.ok()) return spec.status();
  cmd->convert.inputs.push_back(*std::move(spec));
  return absl::OkStatus();
}

using ValueFlagSetter = absl::Status (*)(const std::string&, ParsedCommand*);

/// The flags of convert and coverage that take a value, with what each sets; `convert_only`
/// flags are unknown options to coverage.
struct ValueFlag {
  const char* name;
  bool convert_only;
  ValueFlagSetter set;
};

constexpr ValueFlag kValueFlags[] = {
    {"-o", true,
     [](const std::string& v, ParsedCommand* c) {
       c->convert.output = v;
       return absl::OkStatus();
     }},
    {"--output-path", true,
     [](const std::string& v, ParsedCommand* c) {
       c->convert.output = v;
       return absl::OkStatus();
     }},
    {"--input", false, AddInput},
    {"--output", false,
     [](const std::string& v, ParsedCommand* c) {
       c->convert.output_names.push_back(v);
       return absl::OkStatus();
     }},
    {"--precision", false, SetPrecision},
    {"--target", false, SetTarget},
    {"--io-dtype", false, SetIoDtype},
    {"--keep-fp32", false, AddKeepFp32Rule},
    {"--min-cosine", true, SetMinCosine},
};

/// A flag of kValueFlags at args[*i]: its value read and set. False when args[*i] is none of
/// them; `*error` says what is wrong with one that is.
bool ParseValueFlag(const std::vector<std::string>& args, size_t* i, ParsedCommand* cmd,
                    absl::Status* error) {
  const std::string& a = args[*i];
  for (const ValueFlag& f : kValueFlags) {
    if (a != f.name || (f.convert_only && cmd->command != "convert")) continue;
    if (*i + 1 >= args.size()) {
      *error = Error(ErrorClass::kUsage, absl::StrCat(a, " needs a value"));
    } else {
      *error = f.set(args[++*i], cmd);
    }
    return true;
  }
  return false;
}

/// The checks of a convert or coverage command line once every argument is read.
absl::Status CheckModelCommand(const std::vector<std::string>& args,
                               const std::vector<std::string>& positional, ParsedCommand* cmd) {
  if (positional.size() != 1) {
    return Error(
        ErrorClass::kUsage,
        positional.empty()
            ? absl::StrCat(cmd->command, " needs a model file: ts2coreml ", cmd->command,
                           " MODEL.pt ...; see 'ts2coreml help'")
            : absl::StrCat(cmd->command, " takes one model file, got ", positional.size()));
  }
  cmd->convert.model = positional[0];
  if (cmd->command == "coverage") return absl::OkStatus();
  const ConvertOptions& o = cmd->convert;
  if (o.output.empty()) return Error(ErrorClass::kUsage, "convert needs -o OUT.mlpackage");
  if (o.calibration.requested() && o.precision.precision != Precision::kFp16) {
    return Error(
        ErrorClass::kUsage,
        "--calibrate and --calibration-data decide which ops may run in fp16; they need --precision fp16");
  }
  const bool min_cosine_given =
      std::find(args.begin() + 1, args.end(), "--min-cosine") != args.end();
  if (min_cosine_given && !o.precision_auto) {
    return Error(ErrorClass::kUsage, "--min-cosine is the target of --precision auto");
  }
  if (!o.calibration.requested() && o.calibration.seed != 1000) {
    return Error(ErrorClass::kUsage, "--calibration-seed needs --calibrate N");
  }
  if (o.inputs.empty()) {
    return Error(
        ErrorClass::kInputSpec,
        "convert needs --input NAME:SHAPE for every forward() argument (TorchScript files carry no shapes), e.g. --input x:1x3x224x224");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedCommand> ParseCommandLine(const std::vector<std::string>& args) {
  ParsedCommand cmd;
  if (args.empty()) return Error(ErrorClass::kUsage, "no command given; see 'ts2coreml help'");
  cmd.command = args[0];
  if (cmd.command == "--help" || cmd.command == "-h") cmd.command = "help";
  if (cmd.command == "--version") cmd.command = "version";
  if (cmd.command != "convert" && cmd.command != "coverage" && cmd.command != "help" &&
      cmd.command != "version") {
    return Error(ErrorClass::kUsage,
                 absl::StrCat("unknown command '", cmd.command, "'; see 'ts2coreml help'"));
  }
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    absl::Status error;
    if (ParseValueFlag(args, &i, &cmd, &error) ||
        (cmd.command == "convert" &&
         ParseCalibrationFlag(args, &i, &cmd.convert.calibration, &error)) ||
        ParseCommonFlag(args, &i, &cmd.common, &error)) {
      if (!error.ok()) return error;
    } else if (a == "--force" && cmd.command == "convert") {
      cmd.convert.force = true;
    } else if (a == "--fp16-all") {
      cmd.convert.precision.fp16_all = true;
    } else if (a == "--json" && cmd.command == "coverage") {
      cmd.json = true;
    } else if (a == "--help" || a == "-h") {
      cmd.command = "help";
    } else if (!a.empty() && a[0] == '-') {
      return Error(ErrorClass::kUsage,
                   absl::StrCat("unknown option ", a, "; see 'ts2coreml help'"));
    } else {
      positional.push_back(a);
    }
  }
  if (cmd.command != "convert" && cmd.command != "coverage") return cmd;
  if (absl::Status s = CheckModelCommand(args, positional, &cmd); !s.ok()) return s;
  return cmd;
}

}  // namespace ts2coreml::core

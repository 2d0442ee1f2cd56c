// Hostile input files given to the CLI: FIFOs, /dev/zero, folders and links where a package, a
// model or an .npy file is expected; links leading out of a package; conv and pool strides of 0;
// .npy headers and shapes that are huge, overflow or do not fit; --input shapes that overflow;
// names that are not UTF-8. Every file is made here, at test time, from the corpus model
// (make_corpus.py) and the package it converts to. Every case must end in the documented exit
// code with one line naming the file, within the time and memory RunHostile allows, and leave
// every file that existed before as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/mil/package_reader.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"
#include "tests/hardening/hostile_run.h"
#include "tests/hardening/package_corruptions.h"
#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;
namespace spec_pb = CoreML::Specification;
namespace mil_pb = CoreML::Specification::MILSpec;
using hardening::Refused;
using hardening::RunHostile;

constexpr int kModel = 4, kInputSpec = 5, kPackage = 8;

fs::path Corpus(const std::string& name) { return fs::path(TS2COREML_HARDENING_CORPUS) / name; }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every entry below `root` (links not followed) with its type and, for regular files, bytes:
// what must be unchanged after a refused run.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::file_status st = it->symlink_status();
    std::string what = absl::StrCat(static_cast<int>(st.type()), ":");
    if (fs::is_symlink(st)) what += fs::read_symlink(it->path()).string();
    if (fs::is_regular_file(st)) {
      const uintmax_t size = fs::file_size(it->path());
      what += size <= (1u << 20) ? ReadFile(it->path()) : absl::StrCat("size ", size);
    }
    out[fs::relative(it->path(), root).string()] = what;
  }
  return out;
}

// The corpus model converted once (fp32), the package every package case starts from.
const fs::path& ConvertedPackage() {
  static const TempDir dir;
  static const fs::path* pkg = [] {
    auto* p = new fs::path(dir / "good.mlpackage");
    CliResult r =
        RunProgram(TS2COREML_CLI, {"convert", Corpus("good.pt").string(), "-o", p->string(),
                                   "--input", "x:1x3x8x8", "--precision", "fp32", "--quiet"});
    if (r.exit_code != 0) ADD_FAILURE() << r.output;
    return p;
  }();
  return *pkg;
}

// A copy of the converted package at `dir`/pkg.mlpackage.
fs::path CopyPackage(const TempDir& dir) {
  const fs::path pkg = dir / "pkg.mlpackage";
  fs::copy(ConvertedPackage(), pkg, fs::copy_options::recursive);
  return pkg;
}

fs::path ModelFile(const fs::path& pkg) { return pkg / "Data/com.apple.CoreML/model.mlmodel"; }
fs::path WeightFile(const fs::path& pkg) {
  return pkg / "Data/com.apple.CoreML/weights/weight.bin";
}

// Rewrites model.mlmodel after `edit`. Protobuf's own complaints while serializing a deliberately
// broken model are silenced.
void EditModel(const fs::path& pkg, const std::function<void(spec_pb::Model*)>& edit) {
  absl::StatusOr<mil::Package> p = mil::ReadPackage(pkg);
  ASSERT_TRUE(p.ok()) << p.status();
  edit(&p->model);
  google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(nullptr);
  std::string bytes;
  const bool ok = p->model.SerializeToString(&bytes);
  google::protobuf::SetLogHandler(previous);
  ASSERT_TRUE(ok);
  WriteFile(ModelFile(pkg), bytes);
}

mil_pb::Operation* FirstOp(spec_pb::Model* model, const std::string& type) {
  mil_pb::Function& f = (*model->mutable_mlprogram()->mutable_functions())["main"];
  for (mil_pb::Operation& op :
       *(*f.mutable_block_specializations())[f.opset()].mutable_operations()) {
    if (op.type() == type) return &op;
  }
  return nullptr;
}

// Binds op input `name` to an inline int32 vector.
void SetInts(mil_pb::Operation* op, const std::string& name, const std::vector<int32_t>& v) {
  mil_pb::Argument& arg = (*op->mutable_inputs())[name];
  arg.clear_arguments();
  mil_pb::Value* value = arg.add_arguments()->mutable_value();
  mil_pb::TensorType* t = value->mutable_type()->mutable_tensortype();
  t->set_datatype(mil_pb::INT32);
  t->set_rank(1);
  t->add_dimensions()->mutable_constant()->set_size(v.size());
  for (int32_t i : v)
    value->mutable_immediatevalue()->mutable_tensor()->mutable_ints()->add_values(i);
}

// Runs `args`; the run must be refused with `code`, naming `must_name`, leaving `dir` as it was.
void ExpectRefusedRun(const std::vector<std::string>& args, int code, const std::string& must_name,
                      const fs::path& dir, const std::string& fragment = "") {
  const std::map<std::string, std::string> before = Snapshot(dir);
  const plugin_test::RunResult r = RunHostile(TS2COREML_CLI, args);
  EXPECT_TRUE(Refused(r, code, must_name));
  if (!fragment.empty()) {
    EXPECT_NE(r.output.find(fragment), std::string::npos)
        << "'" << fragment << "' missing from " << r.output;
  }
  EXPECT_EQ(Snapshot(dir), before) << "a refused run changed " << dir;
}

// ---------------------------------------------------------------------------------------------
// Packages: FIFOs, devices, folders and links in place of their files.

struct PackageCase {
  std::string name;
  std::function<void(const fs::path& pkg, const fs::path& outside)> apply;
  std::string names;     ///< the file the error must name, relative to the package
  std::string fragment;  ///< what the error must say about it
};

void ReplaceWithFifo(const fs::path& p) {
  fs::remove(p);
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0) << p;
}

void ReplaceWithLink(const fs::path& p, const fs::path& target) {
  fs::remove_all(p);
  fs::create_symlink(target, p);
}

std::vector<PackageCase> PackageCases() {
  return {
      {"manifest_fifo", [](auto& pkg, auto&) { ReplaceWithFifo(pkg / "Manifest.json"); },
       "Manifest.json", "FIFO"},
      {"model_fifo", [](auto& pkg, auto&) { ReplaceWithFifo(ModelFile(pkg)); }, "model.mlmodel",
       "FIFO"},
      {"weight_fifo", [](auto& pkg, auto&) { ReplaceWithFifo(WeightFile(pkg)); }, "weight.bin",
       "FIFO"},
      {"manifest_dev_zero",
       [](auto& pkg, auto&) { ReplaceWithLink(pkg / "Manifest.json", "/dev/zero"); },
       "Manifest.json", "symbolic link"},
      {"model_dev_zero", [](auto& pkg, auto&) { ReplaceWithLink(ModelFile(pkg), "/dev/zero"); },
       "model.mlmodel", "symbolic link"},
      {"weight_dev_zero", [](auto& pkg, auto&) { ReplaceWithLink(WeightFile(pkg), "/dev/zero"); },
       "weight.bin", "symbolic link"},
      // A link to a complete, valid copy of the files: following it would succeed.
      {"data_links_out",
       [](auto& pkg, auto& outside) {
         fs::copy(pkg / "Data", outside / "Data", fs::copy_options::recursive);
         ReplaceWithLink(pkg / "Data", outside / "Data");
       },
       "Data", "symbolic link"},
      {"data_links_to_root", [](auto& pkg, auto&) { ReplaceWithLink(pkg / "Data", "/"); }, "Data",
       "symbolic link"},
      {"weights_folder_links_out",
       [](auto& pkg, auto& outside) {
         const fs::path weights = WeightFile(pkg).parent_path();
         fs::copy(weights, outside / "weights", fs::copy_options::recursive);
         ReplaceWithLink(weights, outside / "weights");
       },
       "weights", "symbolic link"},
      {"model_is_a_folder",
       [](auto& pkg, auto&) {
         fs::remove(ModelFile(pkg));
         fs::create_directory(ModelFile(pkg));
       },
       "model.mlmodel", "is a folder, not a regular file"},
      {"weight_is_a_folder",
       [](auto& pkg, auto&) {
         fs::remove(WeightFile(pkg));
         fs::create_directory(WeightFile(pkg));
       },
       "weight.bin", "is a folder, not a regular file"},
      // 128 MiB (sparse): over the manifest's cap of 64 MiB.
      {"manifest_huge",
       [](auto& pkg, auto&) { fs::resize_file(pkg / "Manifest.json", uint64_t{1} << 27); },
       "Manifest.json", "more than the"},
  };
}

TEST(HostileFiles, PackageFilesThatAreNotRegularFiles) {
  for (const PackageCase& c : PackageCases()) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const fs::path pkg = CopyPackage(dir);
    fs::create_directory(dir / "outside");
    c.apply(pkg, dir / "outside");
    ExpectRefusedRun({"inspect", pkg.string()}, kPackage, c.names, dir.path(), c.fragment);
    // verify reads packages through the same reader; one run per kind of file is enough.
    if (c.name == "weight_fifo" || c.name == "data_links_out") {
      ExpectRefusedRun({"verify", Corpus("good.pt").string(), pkg.string()}, kPackage, c.names,
                       dir.path(), c.fragment);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Packages whose conv or pool would divide by a stride of 0, or grow without bound.

TEST(HostileFiles, ConvAndPoolParametersOutOfRange) {
  struct Case {
    std::string name;
    std::function<void(mil_pb::Operation*)> edit;
    std::string fragment;
  };
  auto as_pool = [](mil_pb::Operation* op, const std::vector<int32_t>& kernel,
                    const std::vector<int32_t>& strides) {
    op->set_type("max_pool");
    for (const char* unused : {"weight", "bias", "dilations", "groups"}) {
      op->mutable_inputs()->erase(unused);
    }
    SetInts(op, "kernel_sizes", kernel);
    SetInts(op, "strides", strides);
  };
  const std::vector<Case> cases = {
      {"conv_stride_0",
       [](auto* op) {
         SetInts(op, "strides", {0, 0});
       },
       "strides [0, 0]"},
      {"conv_dilation_0",
       [](auto* op) {
         SetInts(op, "dilations", {0, 1});
       },
       "dilations"},
      {"conv_groups_0", [](auto* op) { SetInts(op, "groups", {0}); }, "groups"},
      // The conv lowering always writes pad_type "custom".
      {"conv_pad_huge",
       [](auto* op) {
         SetInts(op, "pad", {1 << 20, 1 << 20, 1 << 20, 1 << 20});
       },
       "more than"},
      {"pool_pad_huge",
       [&](auto* op) {
         as_pool(op, {1, 1}, {1, 1});
         SetInts(op, "pad", {1 << 20, 1 << 20, 1 << 20, 1 << 20});
       },
       "more than"},
      {"pool_stride_0",
       [&](auto* op) {
         as_pool(op, {1, 1}, {0, 0});
       },
       "strides [0, 0]"},
      {"pool_kernel_0",
       [&](auto* op) {
         as_pool(op, {0, 1}, {1, 1});
       },
       "kernel_sizes [0, 1]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const fs::path pkg = CopyPackage(dir);
    EditModel(pkg, [&](spec_pb::Model* m) {
      mil_pb::Operation* conv = FirstOp(m, "conv");
      ASSERT_NE(conv, nullptr);
      c.edit(conv);
    });
    ExpectRefusedRun({"verify", Corpus("good.pt").string(), pkg.string()}, kPackage, pkg.string(),
                     dir.path(), c.fragment);
  }
}

// ---------------------------------------------------------------------------------------------
// .npy files given to verify --input.

std::string Npy(const std::string& header_dict, size_t data_bytes, char major = 1) {
  std::string h = header_dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out("\x93NUMPY", 6);
  out += major;
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return out + h + std::string(data_bytes, '\0');
}

std::string NpyOfShape(const std::string& shape, size_t data_bytes) {
  return Npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", data_bytes);
}

TEST(HostileFiles, NpyInputs) {
  struct Case {
    std::string name;
    std::function<void(const fs::path&)> make;
    std::string fragment;
  };
  const size_t good_bytes = 3 * 8 * 8 * 4;
  const std::vector<Case> cases = {
      {"fifo", [](auto& p) { ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0); }, "FIFO"},
      {"dev_zero", [](auto& p) { fs::create_symlink("/dev/zero", p); }, "character device"},
      {"folder", [](auto& p) { fs::create_directory(p); }, "is a folder"},
      {"scalar", [](auto& p) { WriteFile(p, NpyOfShape("()", 4)); }, "has shape ()"},
      {"rank_9", [](auto& p) { WriteFile(p, NpyOfShape("(1, 1, 1, 1, 1, 1, 1, 1, 1)", 4)); },
       "has shape (1, 1, 1, 1, 1, 1, 1, 1, 1)"},
      {"wrong_shape", [](auto& p) { WriteFile(p, NpyOfShape("(1, 3, 8, 7)", 3 * 8 * 7 * 4)); },
       "has shape (1, 3, 8, 7) but input 'x' is fp32[1,3,8,8]"},
      {"too_large", [](auto& p) { WriteFile(p, NpyOfShape("(1, 3, 8, 9)", 3 * 8 * 9 * 4)); },
       "shape (1, 3, 8, 9) has more than the 192 elements"},
      {"header_100k",
       [](auto& p) {
         WriteFile(p, Npy("{'descr': '" + std::string(100000, 'f') +
                              "', 'fortran_order': False, 'shape': (1, 3, 8, 8), }",
                          good_bytes, 2));
       },
       "more than the 10000"},
      {"shape_overflows",
       [](auto& p) {
         WriteFile(p, NpyOfShape("(9223372036854775807, 9223372036854775807, 4, 4)", 64));
       },
       "elements allowed"},
      {"truncated_data", [&](auto& p) { WriteFile(p, NpyOfShape("(1, 3, 8, 8)", 100)); },
       "data bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const fs::path npy = dir / "x.npy";
    c.make(npy);
    ExpectRefusedRun({"verify", Corpus("good.pt").string(), ConvertedPackage().string(), "--input",
                      "x=" + npy.string()},
                     kInputSpec, npy.string(), dir.path(), c.fragment);
  }
}

TEST(HostileFiles, AWellFormedNpyIsStillRead) {
  TempDir dir;
  WriteFile(dir / "x.npy", NpyOfShape("(1, 3, 8, 8)", 3 * 8 * 8 * 4));
  CliResult r =
      RunProgram(TS2COREML_CLI, {"verify", Corpus("good.pt").string(), ConvertedPackage().string(),
                                 "--input", "x=" + (dir / "x.npy").string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// ---------------------------------------------------------------------------------------------
// Model files and --input shapes given to convert.

TEST(HostileFiles, ModelFilesThatAreNotRegularFiles) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo.pt").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", dir / "zero.pt");
  for (const char* name : {"fifo.pt", "zero.pt"}) {
    SCOPED_TRACE(name);
    const fs::path model = dir / name;
    ExpectRefusedRun(
        {"convert", model.string(), "-o", (dir / "out.mlpackage").string(), "--input", "x:1x3x8x8"},
        kModel, model.string(), dir.path(), "not a regular file");
    ExpectRefusedRun({"verify", model.string(), ConvertedPackage().string()}, kModel,
                     model.string(), dir.path(), "not a regular file");
  }
  // A link to itself is a loop, not a missing file (kept out of `dir`, which is snapshot).
  TempDir links;
  fs::create_symlink("loop.pt", links / "loop.pt");
  fs::create_symlink("loop.mlpackage", links / "loop.mlpackage");
  ExpectRefusedRun({"convert", (links / "loop.pt").string(), "-o", (dir / "out.mlpackage").string(),
                    "--input", "x:1x3x8x8"},
                   kModel, (links / "loop.pt").string(), dir.path(), "Too many levels of symbolic");
  ExpectRefusedRun({"inspect", (links / "loop.mlpackage").string()}, kPackage,
                   (links / "loop.mlpackage").string(), dir.path(), "Too many levels of symbolic");
}

TEST(HostileFiles, InputShapesThatOverflow) {
  TempDir dir;
  for (const std::string spec :
       {"x:1x3x9223372036854775807x1", "x:4294967296x4294967296x1x1", "x:1x65536x65536x1"}) {
    SCOPED_TRACE(spec);
    ExpectRefusedRun({"convert", Corpus("good.pt").string(), "-o", (dir / "out.mlpackage").string(),
                      "--input", spec},
                     kInputSpec, "--input '" + spec + "'", dir.path(), "elements");
  }
}

// ---------------------------------------------------------------------------------------------
// Names that are not UTF-8.

TEST(HostileFiles, ModelNamesThatAreNotUtf8) {
  struct Case {
    std::string name;
    std::function<void(spec_pb::Model*)> edit;
  };
  const std::vector<Case> cases = {
      {"op_output_name",
       [](spec_pb::Model* m) { FirstOp(m, "conv")->mutable_outputs(0)->set_name("y\xff\xfe"); }},
      {"metadata_author",
       [](spec_pb::Model* m) { m->mutable_description()->mutable_metadata()->set_author("\xc3"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const fs::path pkg = CopyPackage(dir);
    EditModel(pkg, c.edit);
    ExpectRefusedRun({"inspect", pkg.string()}, kPackage, "model.mlmodel", dir.path(),
                     "invalid UTF-8");
    ExpectRefusedRun({"verify", Corpus("good.pt").string(), pkg.string()}, kPackage,
                     "model.mlmodel", dir.path(), "invalid UTF-8");
  }
}

TEST(HostileFiles, AModelFileNameThatIsNotUtf8Converts) {
  TempDir dir;
  const fs::path model = dir / "model\xff\xfe.pt";
  fs::copy_file(Corpus("good.pt"), model);
  const fs::path out = dir / "out\xff.mlpackage";
  CliResult r = RunProgram(TS2COREML_CLI, {"convert", model.string(), "-o", out.string(), "--input",
                                           "x:1x3x8x8", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");
  absl::StatusOr<mil::Package> p = mil::ReadPackage(out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->model.description().metadata().shortdescription(),
            "Converted from model\xef\xbf\xbd\xef\xbf\xbd.pt by ts2coreml");
  CliResult v = RunProgram(TS2COREML_CLI, {"verify", model.string(), out.string()});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(HostileFiles, InputNamesThatAreNotUtf8) {
  TempDir dir;
  ExpectRefusedRun({"convert", Corpus("good.pt").string(), "-o", (dir / "o.mlpackage").string(),
                    "--input", "x\xff:1x3x8x8"},
                   kInputSpec, "--input x\xff", dir.path());
}

}  // namespace
}  // namespace ts2coreml::testing

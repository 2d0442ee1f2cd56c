#include "core/cli/inspect_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/cli/cli_common.h"
#include "core/report/package_inspection.h"

namespace ts2coreml::core {

std::string InspectUsage() {
  return R"(  inspect PKG.mlpackage [--json] [--check]
      For any ML Program package: op histogram, the precision label as Xcode shows it and what
      contributes each type, every fp32 op (with the reason ts2coreml recorded, for its own
      packages), fp16/fp32 transitions, weight bytes by dtype.
      --check: validates every op against Core ML's opset for the package's own opset
      (CoreML5..CoreML8) and lists every problem; exit 0 valid, 1 invalid, 8 unreadable.
)";
}

namespace {

/// `inspect PKG --check`: exit 0 valid, 1 readable but invalid, 8 unreadable.
int RunCheck(const std::string& path, bool json) {
  absl::StatusOr<PackageCheck> r = CheckPackage(path);
  if (!r.ok()) return ReportError(r.status());
  std::cout << (json ? FormatCheckJson(*r) : FormatCheckText(*r));
  return r->problems.empty() ? 0 : static_cast<int>(ErrorClass::kCheckFailed);
}

}  // namespace

int RunInspect(const std::vector<std::string>& args) {
  bool json = false;
  bool check = false;
  std::vector<std::string> positional;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: ts2coreml\n" << InspectUsage();
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return ReportError(
          Error(ErrorClass::kUsage, absl::StrCat("unknown option ", a, "; see 'ts2coreml help'")));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 1) {
    return ReportError(
        Error(ErrorClass::kUsage, "inspect takes one package: ts2coreml inspect PKG.mlpackage"));
  }
  if (check) return RunCheck(positional[0], json);
  absl::StatusOr<PackageInspection> r = InspectPackage(positional[0]);
  if (!r.ok()) return ReportError(r.status());
  std::cout << (json ? FormatInspectionJson(*r) : FormatInspectionText(*r));
  return 0;
}

}  // namespace ts2coreml::core

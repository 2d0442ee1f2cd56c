#include "core/cli/inspect_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/cli/cli_common.h"
#include "core/report/package_inspection.h"

namespace ts2coreml::core {

std::string InspectUsage() {
  return R"(  inspect PKG.mlpackage [--json]
      For any ML Program package: op histogram, the precision label as Xcode shows it and what
      contributes each type, every fp32 op (with the reason ts2coreml recorded, for its own
      packages), fp16/fp32 transitions, weight bytes by dtype.
)";
}

int RunInspect(const std::vector<std::string>& args) {
  bool json = false;
  std::vector<std::string> positional;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
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
  absl::StatusOr<PackageInspection> r = InspectPackage(positional[0]);
  if (!r.ok()) return ReportError(r.status());
  std::cout << (json ? FormatInspectionJson(*r) : FormatInspectionText(*r));
  return 0;
}

}  // namespace ts2coreml::core

#include "core/convert/precision_search_rule.h"

#include <algorithm>

namespace ts2coreml::core {

void RunCosines::Add(double cosine) {
  worst = std::min(worst, cosine);
  best = std::max(best, cosine);
  ++runs;
}

void RunCosines::Merge(const RunCosines& other) {
  if (other.runs == 0) return;
  worst = std::min(worst, other.worst);
  best = std::max(best, other.best);
  runs += other.runs;
}

double RunCosines::Spread() const { return runs < 2 ? 0.0 : best - worst; }

double RunCosines::Expected() const { return worst - Spread(); }

bool RunCosines::Meets(double target) const { return runs > 0 && Expected() >= target; }

}  // namespace ts2coreml::core

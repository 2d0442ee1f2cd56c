/// The stopping rule of `--precision auto` (precision_search.h): when a plan's measured cosines
/// on the calibration runs let it be claimed for inputs the search never saw.
///
/// A plan's cosine varies from input to input, and the worst of a few runs is an optimistic
/// estimate of the worst over the inputs to come: of n + m exchangeable runs, the worst of the
/// first n is the worst of all with probability only n / (n + m) (with 3 calibration and 3
/// held-back runs, a plan just reaching the target on the calibration runs misses it held back
/// half the time). So the target must hold with a margin that grows with how much the runs
/// disagree: the rule extrapolates the worst run by the runs' spread,
///
///   expected = worst - (best - worst),
///
/// and a plan is accepted when `expected` reaches the target. Runs that agree cost no margin; a
/// single run has no spread to measure (the first-run probe, a necessary condition only).
///
///   RunCosines c; c.Add(0.99995); c.Add(0.99990);  // c.Expected() == 0.99985
#ifndef TS2COREML_CORE_CONVERT_PRECISION_SEARCH_RULE_H_
#define TS2COREML_CORE_CONVERT_PRECISION_SEARCH_RULE_H_

namespace ts2coreml::core {

/// A plan's cosines on some calibration runs (each run's cosine is the worst over its outputs).
struct RunCosines {
  double worst = 1;  ///< the lowest run's cosine (1 with no run)
  double best = -1;  ///< the highest run's cosine (-1 with no run)
  int runs = 0;

  /// Adds one run's cosine.
  void Add(double cosine);
  /// Adds the runs of `other`.
  void Merge(const RunCosines& other);
  /// The runs' spread, best - worst (0 for fewer than two runs).
  double Spread() const;
  /// The cosine expected at worst on unseen inputs: worst - Spread().
  double Expected() const;
  /// Whether Expected() reaches `target`.
  bool Meets(double target) const;
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PRECISION_SEARCH_RULE_H_

/// What calibration measured (`ts2coreml convert --calibrate N`, `--calibration-data`): the
/// model run in LibTorch at FP32 on calibration inputs, every run-time float value's range and,
/// for each lowered node whose lowering declares FP16 limits, the statistic each limit is about,
/// and the range of each var only a node's MIL decomposition holds (from the FP32 program in the
/// interpreter). The precision planner reads it (PrecisionOptions::calibration);
/// core/convert/calibrate.cpp and mil_calibration.cpp make it. Torch-free.
///
///   const ValueRange* r = calibration.Range(value);   // null when the value was not measured
///   if (r && r->max_abs > mil::kFp16Max) ...           // the value overflows FP16
#ifndef TS2COREML_CORE_CONVERT_CALIBRATION_H_
#define TS2COREML_CORE_CONVERT_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace ts2coreml::core {

/// What to calibrate on (convert's --calibrate, --calibration-seed, --calibration-data).
struct CalibrationRequest {
  /// Runs on random inputs made as `verify` makes them, run r from seed `seed + r`.
  int random_runs = 0;
  /// Verify's default seeds are 0, 1, 2: calibration's start elsewhere, so that verify's runs
  /// measure on inputs the plan was not made from.
  uint64_t seed = 1000;
  /// One more run on these inputs, by model input name (the others random from `seed`).
  std::map<std::string, std::string> files;
  /// Held-back runs (seeds `holdout_seed`..): their inputs and LibTorch's outputs are kept for
  /// `--precision auto` to measure its final plan on, and their ranges are not measured.
  int holdout_runs = 0;
  uint64_t holdout_seed = 0;

  bool requested() const { return random_runs > 0 || !files.empty(); }
};

/// A value's range over every calibration run.
struct ValueRange {
  double max_abs = 0;
  int64_t elements = 0;         ///< summed over the runs
  int64_t below_normal = 0;     ///< nonzero elements below FP16's smallest normal (2^-14)
  int64_t below_subnormal = 0;  ///< nonzero elements below FP16's smallest subnormal (2^-24)

  double ShareBelowNormal() const { return elements ? double(below_normal) / elements : 0; }
  double ShareBelowSubnormal() const { return elements ? double(below_subnormal) / elements : 0; }
};

/// A var of a node's MIL decomposition that holds no TorchScript value (so LibTorch never
/// measured it), measured in the model's FP32 program run in the reference interpreter
/// (mil_calibration.h).
struct MilIntermediate {
  std::string op;   ///< the type of the MIL op making it ("mul")
  std::string var;  ///< its name in the FP32 program
  ValueRange range;
};

struct Calibration {
  /// How the inputs were made: "3 random inputs from seed 1000", "--calibration-data".
  std::string source;
  int runs = 0;
  std::map<ValueId, ValueRange> values;
  /// Node index -> the measured statistic of each FP16 limit its lowering declares (in the
  /// declaration's order), the largest over the runs; NaN where it could not be measured.
  std::map<int, std::vector<double>> limits;
  /// Node index -> the MIL-only vars of the ops its lowering emitted, in emission order.
  std::map<int, std::vector<MilIntermediate>> intermediates;
  bool mil_lowered = false;  ///< the FP32 program was lowered (its MIL-only vars looked for)
  int mil_runs = 0;          ///< its interpreter runs: none when it has no MIL-only var
  double mil_seconds = 0;    ///< lowering, loading and running it

  const ValueRange* Range(ValueId v) const {
    auto it = values.find(v);
    return it == values.end() ? nullptr : &it->second;
  }
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_CALIBRATION_H_

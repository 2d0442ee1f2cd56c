/// A small reader and writer for NumPy .npy files (format 1.0-3.0): little-endian float16,
/// float32 and float64 arrays in C order, as used by `verify --input x=FILE.npy`.
///
///   absl::StatusOr<NpyArray> a = ReadNpy("x.npy");   // values widened to float
///   absl::Status s = WriteNpy("y.npy", *a, NpyDtype::kFloat16);
#ifndef TS2COREML_CORE_INTERP_NPY_H_
#define TS2COREML_CORE_INTERP_NPY_H_

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ts2coreml::interp {

enum class NpyDtype { kFloat16, kFloat32, kFloat64 };

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;            ///< C order
  NpyDtype dtype = NpyDtype::kFloat32;  ///< as stored in the file
};

/// Reads a .npy file. Errors (InvalidArgument/DataLoss) name the file and what is unsupported
/// (Fortran order, big-endian or non-float dtypes, truncated data).
absl::StatusOr<NpyArray> ReadNpy(const std::filesystem::path& path);

/// Writes `array` (shape and values must agree) in `dtype`; fp16 rounds to nearest even.
absl::Status WriteNpy(const std::filesystem::path& path, const NpyArray& array,
                      NpyDtype dtype = NpyDtype::kFloat32);

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_NPY_H_

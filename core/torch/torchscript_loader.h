/// Loads a TorchScript file with LibTorch, turning every failure into a one-line error.
#ifndef TS2COREML_CORE_TORCH_TORCHSCRIPT_LOADER_H_
#define TS2COREML_CORE_TORCH_TORCHSCRIPT_LOADER_H_

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/csrc/jit/api/module.h"

namespace ts2coreml::core {

/// Registers operator schemas declared by plugins ("mylib::fancy_gelu(Tensor x) -> Tensor") so
/// LibTorch can load models that call them. Already known schemas are skipped; registering the
/// same schema twice is harmless. The registered ops have no kernel: calling them throws.
/// Every schema is tried on its own: one that LibTorch rejects does not keep the others out; the
/// error (class kPlugin) lists each rejected schema with LibTorch's reason.
absl::Status RegisterCustomSchemas(const std::vector<std::string>& schemas);

/// The ops of `kinds` ("mylib::fancy_gelu") that RegisterCustomSchemas registered without a
/// kernel: a model calling them loads and converts but cannot run in this process.
std::set<std::string> OpsWithoutKernel(const std::set<std::string>& kinds);

/// Loads `path` on the CPU. Errors (class kModel) name the file and say what is wrong with it.
absl::StatusOr<torch::jit::Module> LoadTorchScript(const std::filesystem::path& path);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_TORCHSCRIPT_LOADER_H_

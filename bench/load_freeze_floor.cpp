// The floor a converter cannot beat: load a TorchScript file with LibTorch and freeze it, nothing
// else. bench/run times this program as a whole process next to `ts2coreml convert`.
//
//   load_freeze_floor MODEL.pt
//
// Exit code 0 on success, 1 with a one-line error otherwise.
#include <exception>
#include <iostream>
#include <string>

#include "torch/csrc/jit/passes/freeze_module.h"
#include "torch/csrc/jit/serialization/import.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: load_freeze_floor MODEL.pt\n";
    return 2;
  }
  try {
    torch::jit::Module module = torch::jit::load(argv[1], c10::Device(c10::kCPU));
    module.eval();
    torch::jit::Module frozen = torch::jit::freeze_module(module);
    // Touch the result so nothing can be skipped.
    std::cout << frozen.get_method("forward").graph()->outputs().size() << " output(s)\n";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    std::cerr << "load_freeze_floor: " << argv[1] << ": " << what.substr(0, what.find('\n'))
              << "\n";
    return 1;
  }
  return 0;
}

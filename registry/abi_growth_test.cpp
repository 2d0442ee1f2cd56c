// The ABI grows without refusing older plugins. This test and the registry it links are compiled
// with T2C_TEST_APPENDED_FIELD, which appends a field to t2c_plugin_info, t2c_lowering_decl and
// t2c_host_api in the live plugin_abi.h, as a later SDK would. A plugin built against the frozen
// first layout (tests/plugins/abi_v1) must still load and lower, and so must a plugin built with
// today's SDK (the live header without the field).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/declaration_reader.h"
#include "registry/registry.h"
#include "registry/test_support.h"
#include "sdk/testing/fake_host.h"

#ifndef T2C_TEST_APPENDED_FIELD
#error "abi_growth_test must be built with T2C_TEST_APPENDED_FIELD"
#endif

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;
namespace t = ts2coreml::sdk::testing;
using ::testing::ElementsAre;

/// A live (grown) declaration rebuilt from what the registry copied, for the fake host.
struct GrownDecl {
  explicit GrownDecl(const Lowering& l) {
    for (const std::string& op : l.ops) ops.push_back(op.c_str());
    for (const InputDecl& in : l.inputs) {
      inputs.push_back({in.name.c_str(), in.role, in.dtypes, in.flags});
    }
    std::memset(&decl, 0, sizeof(decl));
    decl.struct_size = sizeof(decl);
    decl.name = l.name.c_str();
    decl.ops = ops.data();
    decl.num_ops = static_cast<uint32_t>(ops.size());
    decl.priority = l.priority;
    decl.fp16_policy = l.fp16_policy;
    decl.inputs = inputs.data();
    decl.num_inputs = static_cast<uint32_t>(inputs.size());
    decl.infer_rule = l.infer_rule;
    decl.infer = l.infer;
    decl.lower = l.lower;
    decl.user_data = l.user_data;
    decl.flags = l.flags;
  }
  std::vector<const char*> ops;
  std::vector<t2c_input_decl> inputs;
  t2c_lowering_decl decl;
};

/// `size` bytes copied to the very end of a readable page followed by an inaccessible one, so that
/// reading one byte past them faults.
class GuardedBytes {
 public:
  GuardedBytes(const void* data, size_t size)
      : page_(static_cast<size_t>(::sysconf(_SC_PAGESIZE))) {
    void* map =
        ::mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<unsigned char*>(map);
    if (::mprotect(base_ + page_, page_, PROT_NONE) != 0)
      throw std::runtime_error("mprotect failed");
    bytes_ = base_ + page_ - size;
    std::memcpy(bytes_, data, size);
  }
  ~GuardedBytes() { ::munmap(base_, 2 * page_); }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  const void* get() const { return bytes_; }

 private:
  size_t page_;
  unsigned char* base_ = nullptr;
  unsigned char* bytes_ = nullptr;
};

TEST(AbiGrowthTest, TheLiveLayoutHasReallyGrown) {
  EXPECT_EQ(sizeof(t2c_plugin_info), T2C_PLUGIN_INFO_MIN_SIZE + 8);
  // The declaration has grown by real appended fields too (the FP16 limits); the test field is
  // the last one.
  EXPECT_GT(offsetof(t2c_lowering_decl, test_appended_field), T2C_LOWERING_DECL_MIN_SIZE - 1);
  EXPECT_EQ(sizeof(t2c_lowering_decl), offsetof(t2c_lowering_decl, test_appended_field) + 8);
  // The host table has grown since the first layout by real appended functions too; the test
  // field is the last one.
  EXPECT_GT(offsetof(t2c_host_api, test_appended_function), T2C_HOST_API_MIN_SIZE - 1);
  EXPECT_EQ(sizeof(t2c_host_api), offsetof(t2c_host_api, test_appended_function) + 8);
}

TEST(AbiGrowthTest, FirstLayoutPluginLoadsAndLowersOnTheGrownLayout) {
  TempDir dir;
  Registry registry;
  ASSERT_TRUE(registry.LoadFile(dir.CopyIn(TEST_PLUGIN_V1_SCALE_SHIFT)).ok())
      << (registry.refused().empty() ? "" : registry.refused()[0].reason);
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0].name, "t2ctest.scale_shift_v1");
  absl::StatusOr<const Lowering*> found = registry.Find("t2ctest::scale_shift");
  ASSERT_TRUE(found.ok()) << found.status();
  const Lowering& lowering = **found;
  EXPECT_EQ(lowering.name, "scale_shift_v1");
  EXPECT_THAT(lowering.schemas,
              ElementsAre("t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor"));
  ASSERT_EQ(lowering.inputs.size(), 3u);
  EXPECT_EQ(lowering.inputs[2].role, T2C_ROLE_HOST);
  // Fields appended after its layout (the FP16 limits) read as absent.
  EXPECT_TRUE(lowering.fp16_limits.empty());

  // Its lower callback runs against a host table with a function appended after its layout.
  GrownDecl grown(lowering);
  t::FakeNode node("t2ctest::scale_shift");
  node.Add(t::Value::Tensor({1, 8})).Add(t::Value::Float(2.0)).Add(t::Value::Float(0.5));
  node.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(node.Lower(grown.decl)) << node.error();
  EXPECT_THAT(node.op_types(), ElementsAre("mul", "add"));
  EXPECT_EQ(node.planned(0), sdk::TensorType(T2C_DTYPE_FP16, {1, 8}));
}

TEST(AbiGrowthTest, TodaysSdkPluginLoadsOnTheGrownLayout) {
  TempDir dir;
  Registry registry;
  ASSERT_TRUE(registry.LoadFile(dir.CopyIn(TEST_PLUGIN_GOOD)).ok())
      << (registry.refused().empty() ? "" : registry.refused()[0].reason);
  EXPECT_EQ(registry.plugins().at(0).name, "test_good");
  EXPECT_TRUE(registry.Find("aten::relu").ok());
}

TEST(AbiGrowthTest, FirstLayoutStructsAreReadOnlyAsFarAsTheyGo) {
  // Each declaration ends exactly where a page that cannot be read begins: reading a grown
  // struct's worth of bytes from a first-layout one would fault.
  static const char* const kOps[] = {"aten::relu"};
  static const t2c_input_decl kInputs[] = {{"self", T2C_ROLE_TENSOR, T2C_MASK_FLOAT, 0}};
  t2c_lowering_decl decl;
  std::memset(&decl, 0, sizeof(decl));
  decl.struct_size = T2C_LOWERING_DECL_MIN_SIZE;
  decl.name = "relu";
  decl.ops = kOps;
  decl.num_ops = 1;
  decl.priority = 3;
  decl.fp16_policy = T2C_FP16_NATIVE;
  decl.inputs = kInputs;
  decl.num_inputs = 1;
  decl.infer_rule = T2C_INFER_SAME_AS_INPUT0;
  decl.lower = [](const t2c_host_api*, t2c_context*, void*) -> t2c_status { return T2C_OK; };
  const GuardedBytes decl_bytes(&decl, T2C_LOWERING_DECL_MIN_SIZE);

  t2c_plugin_info info;
  std::memset(&info, 0, sizeof(info));
  info.abi_version = T2C_ABI_VERSION;
  info.struct_size = T2C_PLUGIN_INFO_MIN_SIZE;
  info.name = "v1_in_memory";
  info.version = "1";
  info.lowerings = static_cast<const t2c_lowering_decl*>(decl_bytes.get());
  info.num_lowerings = 1;
  const GuardedBytes info_bytes(&info, T2C_PLUGIN_INFO_MIN_SIZE);

  absl::StatusOr<PluginDeclarations> read =
      ReadPluginDeclarations(static_cast<const t2c_plugin_info*>(info_bytes.get()));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->name, "v1_in_memory");
  ASSERT_EQ(read->lowerings.size(), 1u);
  EXPECT_EQ(read->lowerings[0].priority, 3);
  EXPECT_EQ(read->lowerings[0].flags, 0u);
  EXPECT_TRUE(read->lowerings[0].fp16_limits.empty());
}

}  // namespace
}  // namespace ts2coreml::registry

#include "core/base/json.h"

#include "gtest/gtest.h"

namespace ts2coreml::json {
namespace {

TEST(JsonTest, WriterOutputParsesBackWithKeyOrderKept) {
  Writer w;
  w.BeginObject()
      .Key("b")
      .Int(2)
      .Key("a")
      .BeginArray()
      .String("x\"y\n")
      .Double(0.5)
      .Bool(true)
      .Null()
      .EndArray()
      .Key("empty")
      .BeginObject()
      .EndObject()
      .EndObject();
  const std::string text = w.Finish();
  EXPECT_EQ(text,
            "{\n  \"b\": 2,\n  \"a\": [\n    \"x\\\"y\\n\",\n    0.5,\n    true,\n    null\n  ],\n"
            "  \"empty\": {}\n}\n");
  absl::StatusOr<Value> v = Parse(text);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->object.size(), 3u);
  EXPECT_EQ(v->object[0].first, "b");
  EXPECT_EQ(v->Find("b")->number, 2);
  EXPECT_EQ(v->Find("a")->array[0].string, "x\"y\n");
  EXPECT_EQ(v->Find("a")->array[3].kind, Value::Kind::kNull);
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(JsonTest, ParseErrorsGiveTheOffset) {
  absl::StatusOr<Value> v = Parse("{\"a\": [1, 2,}");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("at byte"), std::string::npos);
  EXPECT_FALSE(Parse("[1] x").ok());
  EXPECT_FALSE(Parse("").ok());
}

}  // namespace
}  // namespace ts2coreml::json

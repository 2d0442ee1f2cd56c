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

TEST(JsonTest, DuplicateKeysAreRefusedAtAnyDepth) {
  absl::StatusOr<Value> top = Parse(R"({"a": 1, "b": 2, "a": 3})");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(std::string(top.status().message()).find("duplicate key \"a\""), std::string::npos)
      << top.status();
  EXPECT_FALSE(Parse(R"({"x": {"k": 1, "k": 2}})").ok());
  // The same key in sibling objects is fine.
  absl::StatusOr<Value> siblings = Parse(R"([{"k": 1}, {"k": 2}, {"o": {"k": 3}, "k": 4}])");
  ASSERT_TRUE(siblings.ok()) << siblings.status();
  EXPECT_EQ(siblings->array[2].Find("o")->Find("k")->number, 3);
}

TEST(JsonTest, ManyKeysParseAndKeepTheirOrder) {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i)
    text += (i ? ", \"" : "\"") + std::to_string(i) + "\": " + std::to_string(i);
  text += "}";
  absl::StatusOr<Value> v = Parse(text);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->object.size(), 100000u);
  EXPECT_EQ(v->object[99999].first, "99999");
  EXPECT_EQ(v->object[99999].second.number, 99999);
  EXPECT_FALSE(Parse(text.substr(0, text.size() - 1) + ", \"5\": 0}").ok());
}

TEST(JsonTest, NestingIsLimited) {
  EXPECT_TRUE(Parse(std::string(64, '[') + std::string(64, ']')).ok());
  absl::StatusOr<Value> deep = Parse(std::string(100000, '['));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(std::string(deep.status().message()).find("nested too deeply"), std::string::npos);
}

TEST(JsonTest, StringsRoundTripAndInvalidUtf8IsReplaced) {
  const std::string s = "tab\t nul\x01 quote\" slash/ \xc3\xa9";
  EXPECT_EQ(Quote(s), "\"tab\\t nul\\u0001 quote\\\" slash/ \xc3\xa9\"");
  absl::StatusOr<Value> v = Parse(Quote(s));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->string, s);
  EXPECT_EQ(Quote("a\xff"), "\"a\xef\xbf\xbd\"");
  EXPECT_EQ(Parse(R"("\ud83d\ude00")")->string, "\xf0\x9f\x98\x80");
  EXPECT_FALSE(Parse(R"("\ud83d")").ok());
}

TEST(JsonTest, WriterIsStableAndWritesNonFiniteAsNull) {
  auto write = [] {
    Writer w;
    w.BeginObject().Key("n").Double(0.1).Key("inf").Double(1.0 / 0.0).Key("i").Int(-7);
    w.Key("list").BeginArray().EndArray().EndObject();
    return w.Finish();
  };
  EXPECT_EQ(write(), write());
  EXPECT_EQ(write(), "{\n  \"n\": 0.1,\n  \"inf\": null,\n  \"i\": -7,\n  \"list\": []\n}\n");
}

}  // namespace
}  // namespace ts2coreml::json

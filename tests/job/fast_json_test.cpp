#include "pushgw/job/fast_json.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pushgw::job {
namespace {

using nlohmann::json;

constexpr std::size_t kDepth = 64;

// Equal values of equal types all the way down (json's operator== takes 5 and 5u as equal).
::testing::AssertionResult same(const json& a, const json& b) {
  if (a.type() != b.type()) {
    return ::testing::AssertionFailure() << a.dump() << " is a " << a.type_name() << ", " << b.dump() << " a "
                                         << b.type_name();
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << a.dump() << " vs " << b.dump();
    for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt) {
      if (it.key() != jt.key()) return ::testing::AssertionFailure() << it.key() << " vs " << jt.key();
      if (auto r = same(it.value(), jt.value()); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << a.dump() << " vs " << b.dump();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (auto r = same(a[i], b[i]); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a != b) return ::testing::AssertionFailure() << a.dump() << " vs " << b.dump();
  return ::testing::AssertionSuccess();
}

TEST(FastJson, ReadsWhatNlohmannReadsTheSame) {
  const std::vector<std::string> texts = {
      R"({"platform":"ios","title":"bench","tokens":["ab01","ab02"],"data":{"bench_enqueued_ms":1796036139509}})",
      " {\n \"a\" :\t[ 1 ,\r\n -2, 0, -0 ] , \"b\": { } , \"c\": [ ] } ",
      R"({"t":true,"f":false,"n":null,"big":999999999999999999,"neg":-999999999999999999})",
      R"({"esc":"q\" b\\ s\/ \b\f\n\r\t","u":"\u00e9\u20AC\ud83d\ude00\u0000x"})",
      "{\"utf8\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}",
      R"({"dup":1,"dup":[2],"a":{"dup":"x","dup":"y"}})",
      R"([[[[[]]]],{"a":[{"b":[]}]}])",
      R"("top")", "5", "-7", "true", "null", " [] ",
  };
  for (const auto& text : texts) {
    const auto fast = read_json_fast(text, kDepth);
    ASSERT_TRUE(fast.has_value()) << text;
    EXPECT_TRUE(same(*fast, json::parse(text))) << text;
  }
}

TEST(FastJson, LeavesTheRestToNlohmann) {
  const std::vector<std::string> texts = {
      "",        " ",       "1.5",     "1e3",     "-1E3",     "1234567890123456789",
      "01",      "-",       "-a",      "+1",      "tru",      "nul",
      "[1,]",    "{\"a\":1,}", "{,}",  "{\"a\" 1}", "{a:1}",   "[1 2]",
      "\"open",  "\"bad \\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"\\udc00\"",
      "\"tab\there\"", "\"\xFF\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"",
      "{} x",    "[] []",   "\xEF\xBB\xBF{}",  // a byte-order mark: nlohmann skips it
  };
  for (const auto& text : texts) {
    EXPECT_FALSE(read_json_fast(text, kDepth).has_value()) << text;
  }
}

TEST(FastJson, DeclinesNestingDeeperThanAsked) {
  EXPECT_TRUE(read_json_fast("[[[]]]", 3).has_value());
  EXPECT_FALSE(read_json_fast("[[[[]]]]", 3).has_value());
  EXPECT_TRUE(read_json_fast(R"({"a":{"b":{}}})", 3).has_value());
  EXPECT_FALSE(read_json_fast(R"({"a":{"b":{"c":[]}}})", 3).has_value());
}

TEST(FastJson, NeverAcceptsWhatNlohmannRejectsOrReadsDifferently) {
  // Damaged copies of valid texts: whatever the fast reader accepts, nlohmann must read the
  // same; what nlohmann rejects, the fast reader must decline.
  const std::vector<std::string> seeds = {
      R"({"platform":"ios","tokens":["ab01","AB02"],"title":"caf\u00e9","badge":3,"data":{"k":[1,-2,null,true]}})",
      "{\"m\":\"\xE2\x82\xAC\\n\\\"x\",\"n\":[{},[],\"\\ud83d\\ude00\"]}",
  };
  const std::string alphabet = "{}[]\":,\\/ 0123456789-+.eEtrufalsn\x01\x80\xC3\xA9\xED\xFFu";
  std::mt19937 random(12345);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[round % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0: text[at] = alphabet[random() % alphabet.size()]; break;
        case 1: text.erase(at, 1); break;
        default: text.insert(at, 1, alphabet[random() % alphabet.size()]); break;
      }
    }
    const auto fast = read_json_fast(text, kDepth);
    json reference;
    bool valid = true;
    try {
      reference = json::parse(text);
    } catch (const json::parse_error&) {
      valid = false;
    }
    if (fast) {
      ++accepted;
      ASSERT_TRUE(valid) << "accepted what nlohmann rejects: " << text;
      ASSERT_TRUE(same(*fast, reference)) << text;
    }
  }
  EXPECT_GT(accepted, 1000);  // the damage leaves many texts valid: both readers were compared
}

}  // namespace
}  // namespace pushgw::job

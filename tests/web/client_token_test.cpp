// web/client_token: HS256 client tokens, verified against a secret at a given time.
#include "pushgw/web/client_token.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pushgw/common/base64url.hpp"
#include "pushgw/common/hmac.hpp"

namespace pushgw::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;
using std::chrono::seconds;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kSecret = "s3cret-for-tests";
const SystemClock::time_point kNow = SystemClock::time_point(seconds(1'700'000'000));
constexpr std::int64_t kNowS = 1'700'000'000;

std::string b64(std::string_view text) { return common::base64url_encode(text); }

// A token made by hand: any header and payload text, signed with `secret` over what is sent.
std::string sign(std::string_view header, std::string_view payload, std::string_view secret = kSecret) {
  const std::string signed_part = b64(header) + "." + b64(payload);
  return signed_part + "." + b64(common::hmac_sha256(secret, signed_part));
}

std::string sign_claims(const json& claims, std::string_view secret = kSecret) {
  return sign(R"({"alg":"HS256","typ":"JWT"})", claims.dump(), secret);
}

json good_claims() { return {{"channels", {"user:42", "room:ops"}}, {"exp", kNowS + 3600}, {"sub", "user-42"}}; }

ClientToken verify_ok(const std::string& token, SystemClock::time_point now = kNow) {
  const TokenCheck check = verify_client_token(token, kSecret, now);
  if (!check.ok()) {
    ADD_FAILURE() << "refused: " << check.message;
    return {};
  }
  EXPECT_TRUE(check.message.empty());
  return check.value();
}

TokenCheck verify_error(const std::string& token, std::string_view secret = kSecret,
                        SystemClock::time_point now = kNow) {
  TokenCheck check = verify_client_token(token, secret, now);
  EXPECT_FALSE(check.ok()) << "accepted";
  EXPECT_FALSE(check.message.empty());
  // A refusal never shows the secret or the token it refuses.
  EXPECT_THAT(check.message, Not(HasSubstr(std::string(secret.empty() ? "\x01" : secret))));
  if (token.size() > 8) {
    EXPECT_THAT(check.message, Not(HasSubstr(token)));
  }
  return check;
}

std::vector<std::string> segments(const std::string& token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = token.find('.', start);
    out.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

TEST(ClientToken, AValidTokenGivesItsChannelsExpiryAndSubject) {
  const ClientToken token = verify_ok(sign_claims(good_claims()));
  EXPECT_THAT(token.channels, ElementsAre("user:42", "room:ops"));
  EXPECT_EQ(token.expires, kNow + seconds(3600));
  EXPECT_EQ(token.subject, "user-42");
}

TEST(ClientToken, SubNbfIatAndTypAreOptional) {
  // No typ, no sub; nbf and iat in the past.
  const json claims = {{"channels", {"a"}}, {"exp", kNowS + 1}, {"nbf", kNowS}, {"iat", kNowS - 10}};
  const auto token = verify_ok(sign(R"({"alg":"HS256"})", claims.dump()));
  EXPECT_THAT(token.channels, ElementsAre("a"));
  EXPECT_EQ(token.subject, "");
  EXPECT_EQ(token.expires, kNow + seconds(1));
}

TEST(ClientToken, RepeatedChannelsAreKeptOnceInOrder) {
  const auto token = verify_ok(sign_claims({{"channels", {"b", "a", "b", "a", "c"}}, {"exp", kNowS + 60}}));
  EXPECT_THAT(token.channels, ElementsAre("b", "a", "c"));
}

TEST(ClientToken, MintedTokensVerify) {
  const std::string token = mint_client_token(kSecret, {"user:42", "room:ops"}, kNow + seconds(90), "u");
  const ClientToken verified = verify_ok(token);
  EXPECT_THAT(verified.channels, ElementsAre("user:42", "room:ops"));
  EXPECT_EQ(verified.expires, kNow + seconds(90));
  EXPECT_EQ(verified.subject, "u");
  // Header as every JWT library writes it; no sub when there is no subject.
  EXPECT_EQ(common::base64url_decode(segments(token)[0]), R"({"alg":"HS256","typ":"JWT"})");
  const std::string anonymous = mint_client_token(kSecret, {"a"}, kNow + seconds(1));
  const auto claims = json::parse(*common::base64url_decode(segments(anonymous)[1]));
  EXPECT_FALSE(claims.contains("sub"));
  EXPECT_EQ(claims["exp"], kNowS + 1);
}

TEST(ClientToken, MatchesOtherImplementations) {
  // Python's hmac and base64 made this one from the same claims and secret.
  EXPECT_EQ(mint_client_token(kSecret, {"user:42", "room:ops"}, kNow + seconds(3600), "user-42"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJjaGFubmVscyI6WyJ1c2VyOjQyIiwicm9vbTpvcHMiXSwiZXhwIjoxNzAwMDAzNjAwLCJzdWIiOiJ1c2VyLTQyIn0."
            "Nh20g-4uSeAapoMrJJIHOVlzzSBaOqg890DRzqkH1HQ");
  // RFC 7515 appendix A.1: its MAC verifies under its key; the token then fails only for
  // lacking our claims.
  const std::string rfc_token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string rfc_key = *common::base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  EXPECT_EQ(verify_error(rfc_token, rfc_key).code, error::missing_claim);
  EXPECT_EQ(verify_error(rfc_token, rfc_key.substr(1)).code, error::bad_signature);
}

TEST(ClientToken, MintRefusesWhatVerifyWouldRefuse) {
  EXPECT_THROW(mint_client_token("", {"a"}, kNow + seconds(1)), std::invalid_argument);
  EXPECT_THROW(mint_client_token(kSecret, {}, kNow + seconds(1)), std::invalid_argument);
  EXPECT_THROW(mint_client_token(kSecret, {"a", "no spaces"}, kNow + seconds(1)), std::invalid_argument);
}

TEST(ClientToken, ExpiredAtAndAfterExp) {
  const std::string token = sign_claims(good_claims());
  EXPECT_TRUE(verify_client_token(token, kSecret, kNow + seconds(3599)).ok());
  // exp is the first moment the token is no longer good (RFC 7519 §4.1.4).
  auto check = verify_error(token, kSecret, kNow + seconds(3600));
  EXPECT_EQ(check.code, error::expired);
  EXPECT_THAT(check.message, HasSubstr("expired"));
  EXPECT_THAT(check.message, HasSubstr(std::to_string(kNowS + 3600)));
  EXPECT_EQ(verify_error(token, kSecret, kNow + seconds(86400)).code, error::expired);
  EXPECT_EQ(verify_error(sign_claims({{"channels", {"a"}}, {"exp", -5}})).code, error::expired);
}

TEST(ClientToken, FractionalAndFarExpiriesWork) {
  auto token = verify_ok(sign_claims({{"channels", {"a"}}, {"exp", static_cast<double>(kNowS) + 0.5}}));
  EXPECT_EQ(token.expires, kNow + std::chrono::milliseconds(500));
  EXPECT_EQ(verify_error(sign_claims({{"channels", {"a"}}, {"exp", static_cast<double>(kNowS) - 0.5}})).code,
            error::expired);
  // A NumericDate past what the clock can hold is kept at a far date, not overflowed.
  token = verify_ok(sign_claims({{"channels", {"a"}}, {"exp", 1e300}}));
  EXPECT_GT(token.expires, kNow + std::chrono::hours(24 * 365 * 100));
}

TEST(ClientToken, RefusedBeforeNbf) {
  json claims = good_claims();
  claims["nbf"] = kNowS + 30;
  auto check = verify_error(sign_claims(claims));
  EXPECT_EQ(check.code, error::not_yet_valid);
  EXPECT_THAT(check.message, HasSubstr("not valid yet"));
  EXPECT_TRUE(verify_client_token(sign_claims(claims), kSecret, kNow + seconds(30)).ok());
}

TEST(ClientToken, ATamperedPayloadOrSignatureIsRefused) {
  const std::string token = sign_claims(good_claims());
  auto parts = segments(token);
  ASSERT_EQ(parts.size(), 3u);

  // More channels under the old signature.
  json more = good_claims();
  more["channels"].push_back("admin");
  auto check = verify_error(parts[0] + "." + b64(more.dump()) + "." + parts[2]);
  EXPECT_EQ(check.code, error::bad_signature);
  EXPECT_THAT(check.message, HasSubstr("signature"));

  // A later exp under the old signature.
  json later = good_claims();
  later["exp"] = kNowS + 999999;
  EXPECT_EQ(verify_error(parts[0] + "." + b64(later.dump()) + "." + parts[2]).code, error::bad_signature);

  // One bit of the MAC changed (the first character carries 6 bits of its first byte).
  std::string flipped = parts[2];
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_error(parts[0] + "." + parts[1] + "." + flipped).code, error::bad_signature);

  // The MAC cut short or made longer: lengths differ before any byte is compared.
  const std::string mac = *common::base64url_decode(parts[2]);
  EXPECT_EQ(verify_error(parts[0] + "." + parts[1] + "." + b64(mac.substr(0, 31))).code, error::bad_signature);
  EXPECT_EQ(verify_error(parts[0] + "." + parts[1] + "." + b64(mac + "x")).code, error::bad_signature);
  EXPECT_EQ(verify_error(parts[0] + "." + parts[1] + ".").code, error::bad_signature);
}

TEST(ClientToken, AnotherSecretIsRefused) {
  auto check = verify_error(sign_claims(good_claims(), "another-secret"));
  EXPECT_EQ(check.code, error::bad_signature);
  EXPECT_EQ(verify_error(sign_claims(good_claims()), "s3cret-for-test").code, error::bad_signature);
}

TEST(ClientToken, AnEmptySecretVerifiesNothing) {
  // Not even a token made with the empty secret.
  auto check = verify_error(sign_claims(good_claims(), ""), "");
  EXPECT_EQ(check.code, error::no_secret);
  EXPECT_THAT(check.message, HasSubstr("web.secret"));
}

TEST(ClientToken, OnlyHs256IsAccepted) {
  const std::string payload = good_claims().dump();
  // alg "none": an unsecured JWS, no signature at all.
  auto check = verify_error(b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload) + ".");
  EXPECT_EQ(check.code, error::unsupported_algorithm);
  EXPECT_THAT(check.message, HasSubstr("\"none\""));
  // Even with a valid HMAC: the token does not choose the algorithm.
  EXPECT_EQ(verify_error(sign(R"({"alg":"none"})", payload)).code, error::unsupported_algorithm);
  EXPECT_EQ(verify_error(sign(R"({"alg":"RS256","typ":"JWT"})", payload)).code, error::unsupported_algorithm);
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS512"})", payload)).code, error::unsupported_algorithm);
  EXPECT_EQ(verify_error(sign(R"({"alg":"hs256"})", payload)).code, error::unsupported_algorithm);
  EXPECT_EQ(verify_error(sign(R"({"alg":256})", payload)).code, error::unsupported_algorithm);
  check = verify_error(sign(R"({"typ":"JWT"})", payload));
  EXPECT_EQ(check.code, error::unsupported_algorithm);
  EXPECT_THAT(check.message, HasSubstr("no alg"));
}

TEST(ClientToken, TypMustBeJwtAndCritIsRefused) {
  const std::string payload = good_claims().dump();
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS256","typ":"JOSE+JSON"})", payload)).code, error::malformed);
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS256","typ":1})", payload)).code, error::malformed);
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS256","crit":["exp"]})", payload)).code, error::malformed);
}

TEST(ClientToken, ChannelsAreRequiredNonEmptyAndValid) {
  auto check = verify_error(sign_claims({{"exp", kNowS + 60}}));
  EXPECT_EQ(check.code, error::missing_claim);
  EXPECT_THAT(check.message, HasSubstr("channels"));

  check = verify_error(sign_claims({{"channels", json::array()}, {"exp", kNowS + 60}}));
  EXPECT_EQ(check.code, error::bad_claim);
  EXPECT_THAT(check.message, HasSubstr("empty"));

  EXPECT_EQ(verify_error(sign_claims({{"channels", "a,b"}, {"exp", kNowS + 60}})).code, error::bad_claim);

  check = verify_error(sign_claims({{"channels", {"ok", "not ok"}}, {"exp", kNowS + 60}}));
  EXPECT_EQ(check.code, error::bad_channel);
  EXPECT_THAT(check.message, HasSubstr("channels[1] \"not ok\""));

  EXPECT_EQ(verify_error(sign_claims({{"channels", {"a", 7}}, {"exp", kNowS + 60}})).code, error::bad_channel);
  EXPECT_EQ(verify_error(sign_claims({{"channels", {std::string(129, 'x')}}, {"exp", kNowS + 60}})).code,
            error::bad_channel);
  EXPECT_EQ(verify_error(sign_claims({{"channels", {""}}, {"exp", kNowS + 60}})).code, error::bad_channel);
}

TEST(ClientToken, ExpIsARequiredNumber) {
  auto check = verify_error(sign_claims({{"channels", {"a"}}}));
  EXPECT_EQ(check.code, error::missing_claim);
  EXPECT_THAT(check.message, HasSubstr("exp"));

  check = verify_error(sign_claims({{"channels", {"a"}}, {"exp", std::to_string(kNowS + 60)}}));
  EXPECT_EQ(check.code, error::bad_claim);
  EXPECT_THAT(check.message, HasSubstr("exp must be a number"));
  EXPECT_EQ(verify_error(sign_claims({{"channels", {"a"}}, {"exp", true}})).code, error::bad_claim);
  EXPECT_EQ(verify_error(sign_claims({{"channels", {"a"}}, {"exp", nullptr}})).code, error::bad_claim);
}

TEST(ClientToken, OptionalClaimsMustHaveTheirTypes) {
  json claims = good_claims();
  claims["nbf"] = "yesterday";
  EXPECT_EQ(verify_error(sign_claims(claims)).code, error::bad_claim);
  claims = good_claims();
  claims["iat"] = json::array();
  EXPECT_EQ(verify_error(sign_claims(claims)).code, error::bad_claim);
  claims = good_claims();
  claims["sub"] = 42;
  EXPECT_EQ(verify_error(sign_claims(claims)).code, error::bad_claim);
}

TEST(ClientToken, SegmentsMustBeThree) {
  const auto parts = segments(sign_claims(good_claims()));
  auto check = verify_error(parts[0] + "." + parts[1]);
  EXPECT_EQ(check.code, error::malformed);
  EXPECT_THAT(check.message, HasSubstr("got 2"));
  check = verify_error(parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2]);
  EXPECT_EQ(check.code, error::malformed);
  EXPECT_THAT(check.message, HasSubstr("got 4"));
  EXPECT_EQ(verify_error("just-text").code, error::malformed);
  EXPECT_EQ(verify_client_token("", kSecret, kNow).code, error::malformed);
  // A JWE has five.
  EXPECT_EQ(verify_error(parts[0] + "...." + parts[2]).code, error::malformed);
}

TEST(ClientToken, GarbageSegmentsAreMalformed) {
  const auto parts = segments(sign_claims(good_claims()));
  // Header and signature are read before the MAC is checked.
  EXPECT_EQ(verify_error("***." + parts[1] + "." + parts[2]).code, error::malformed);
  EXPECT_EQ(verify_error(parts[0] + "." + parts[1] + ".not*base64").code, error::malformed);
  EXPECT_EQ(verify_error(b64("not json") + "." + parts[1] + "." + parts[2]).code, error::malformed);
  EXPECT_EQ(verify_error(sign("[]", good_claims().dump())).code, error::malformed);
  // A payload that is signed but not base64url of a JSON object.
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS256"})", "[1,2]")).code, error::malformed);
  EXPECT_EQ(verify_error(sign(R"({"alg":"HS256"})", "{\"channels\":")).code, error::malformed);
  const std::string signed_part = b64(R"({"alg":"HS256"})") + ".%%%";
  EXPECT_EQ(verify_error(signed_part + "." + b64(common::hmac_sha256(kSecret, signed_part))).code, error::malformed);
}

TEST(ClientToken, LengthIsCappedBeforeAnythingIsDecoded) {
  // The longest valid token within the cap is accepted; any longer one is refused as too long.
  std::string longest_ok;
  std::string shortest_too_long;
  for (std::size_t n = 6000; n < 6200 && shortest_too_long.empty(); ++n) {
    json claims = good_claims();
    claims["sub"] = std::string(n, 's');
    std::string token = sign_claims(claims);
    if (token.size() <= kMaxClientTokenBytes) {
      longest_ok.assign(token);  // a copy: GCC 12 -O2 warns (falsely) on moving this string
    } else {
      shortest_too_long.assign(token);
    }
  }
  ASSERT_GE(longest_ok.size(), kMaxClientTokenBytes - 3);
  ASSERT_FALSE(shortest_too_long.empty());
  EXPECT_GE(verify_ok(longest_ok).subject.size(), 6000u);
  auto check = verify_error(shortest_too_long);
  EXPECT_EQ(check.code, error::too_long);
  EXPECT_THAT(check.message, HasSubstr("8192"));
  // Garbage of that size is refused for its size, not parsed.
  EXPECT_EQ(verify_error(std::string(1 << 20, 'A')).code, error::too_long);
}

TEST(ClientToken, ErrorsHaveTheModulesCategory) {
  const boost::system::error_code ec = error::expired;
  EXPECT_STREQ(ec.category().name(), "pushgw.web");
  EXPECT_EQ(ec.message(), "client token expired");
  EXPECT_EQ(make_error_code(error::bad_signature).message(), "client token signature does not match");
  EXPECT_NE(ec, make_error_code(error::bad_signature));
}

}  // namespace
}  // namespace pushgw::web

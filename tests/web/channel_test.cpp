// web/channel: channel names, and the channels a live request reads.
#include "pushgw/web/channel.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pushgw::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ClientToken token_for(std::vector<std::string> channels) {
  ClientToken token;
  token.channels = std::move(channels);
  return token;
}

TEST(Channel, NamesAreOneTo128OfTheAllowedCharacters) {
  EXPECT_TRUE(is_valid_channel("user:42"));
  EXPECT_TRUE(is_valid_channel("room.ops-eu_1"));
  EXPECT_TRUE(is_valid_channel("ABCxyz0189:_.-"));
  EXPECT_TRUE(is_valid_channel("a"));
  EXPECT_TRUE(is_valid_channel(std::string(128, 'x')));

  EXPECT_FALSE(is_valid_channel(""));
  EXPECT_FALSE(is_valid_channel(std::string(129, 'x')));
  for (const std::string bad : {"a b", "a/b", "a,b", "{a}", "a*", "é", "a\nb", "a%2C", "a+b", "a@b"}) {
    EXPECT_FALSE(is_valid_channel(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_channel(std::string("a\0b", 3)));
}

TEST(Channel, NoParameterOrAnEmptyOneMeansAllOfTheTokens) {
  const ClientToken token = token_for({"user:42", "room:ops"});
  auto selection = select_channels(std::nullopt, token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_THAT(selection.value(), ElementsAre("user:42", "room:ops"));
  selection = select_channels(std::string(), token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_THAT(selection.value(), ElementsAre("user:42", "room:ops"));
}

TEST(Channel, ASubsetInTheOrderAskedOnce) {
  const ClientToken token = token_for({"a", "b", "c"});
  auto selection = select_channels("c,a", token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_THAT(selection.value(), ElementsAre("c", "a"));
  selection = select_channels("b,b,a,b", token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_THAT(selection.value(), ElementsAre("b", "a"));
  selection = select_channels("b", token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_THAT(selection.value(), ElementsAre("b"));
}

TEST(Channel, AnInvalidNameIs400) {
  const ClientToken token = token_for({"a", "b"});
  auto selection = select_channels("a,b c", token);
  EXPECT_FALSE(selection.ok());
  EXPECT_EQ(selection.status, 400);
  EXPECT_THAT(selection.message, HasSubstr("\"b c\""));
  EXPECT_TRUE(selection.channels.empty());
  // Empty names: a stray comma is not "all channels".
  EXPECT_EQ(select_channels("a,,b", token).status, 400);
  EXPECT_EQ(select_channels("a,", token).status, 400);
  EXPECT_EQ(select_channels(",", token).status, 400);
  EXPECT_EQ(select_channels(std::string(129, 'a'), token).status, 400);
}

TEST(Channel, ANameTheTokenDoesNotGrantIs403) {
  const ClientToken token = token_for({"user:42"});
  auto selection = select_channels("user:42,user:43", token);
  EXPECT_FALSE(selection.ok());
  EXPECT_EQ(selection.status, 403);
  EXPECT_THAT(selection.message, HasSubstr("\"user:43\""));
  EXPECT_TRUE(selection.channels.empty());
  // Case matters.
  EXPECT_EQ(select_channels("USER:42", token).status, 403);
}

TEST(Channel, AnInvalidNameWinsOverAnUngrantedOneWhateverTheOrder) {
  const ClientToken token = token_for({"a"});
  EXPECT_EQ(select_channels("x,bad name", token).status, 400);
  EXPECT_EQ(select_channels("bad name,x", token).status, 400);
}

TEST(Channel, ALongListStaysCheap) {
  ClientToken token;
  std::string param;
  for (int i = 0; i < 5000; ++i) {
    token.channels.push_back("c" + std::to_string(i));
    param += (i > 0 ? "," : "") + token.channels.back();
  }
  const auto selection = select_channels(param + "," + param, token);
  ASSERT_TRUE(selection.ok()) << selection.message;
  EXPECT_EQ(selection.value(), token.channels);
}

}  // namespace
}  // namespace pushgw::web

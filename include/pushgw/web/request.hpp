#pragma once
// What GET /events and GET /ws ask for, read from the request before anything is opened, and
// what the live endpoints write: message ids, Server-Sent Events frames and the JSON of one
// delivered message. Pure text in, text out.
//
//   token     Authorization: Bearer <jwt>, else ?token=<jwt>            (neither: 401)
//   channels  ?channels=a,b (checked against the token by select_channels)
//   resume    SSE: Last-Event-ID header, else ?last_event_id=ID; WebSocket: ?last_id=ID
//             (not a message id: 400)

#include <compare>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pushgw::web {

// A message id: the id of the entry in the channel's Redis Stream, "<ms>-<seq>".
struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  auto operator<=>(const StreamId&) const = default;
  std::string to_string() const;
};

// "<ms>-<seq>", both unsigned 64-bit decimals; nullopt for anything else.
std::optional<StreamId> parse_stream_id(std::string_view text);

// Where a resumed client says what it saw last.
enum class Resume { sse, ws };

struct OpeningHeaders {
  std::optional<std::string_view> authorization;
  std::optional<std::string_view> last_event_id;  // read for Resume::sse only
};

// A live request's token, channels and resume point, or the refusal (status and message).
struct Opening {
  std::string token;
  std::optional<std::string> channels;  // the decoded `channels` parameter, when present
  std::optional<StreamId> resume;       // messages after this one are replayed first

  int status = 0;                       // 0, or 400 / 401
  std::string message;

  bool ok() const { return status == 0; }
};

// `target` as sent (path and query).
Opening parse_opening(std::string_view target, const OpeningHeaders& headers, Resume resume);

// The same from a server request (http::Request): its target and its header(lower-case name).
template <class Request>
  requires requires(const Request& r, std::string_view name) {
    { r.target } -> std::convertible_to<std::string_view>;
    { r.header(name) } -> std::convertible_to<std::optional<std::string_view>>;
  }
Opening parse_opening(const Request& request, Resume resume) {
  OpeningHeaders headers;
  headers.authorization = request.header("authorization");
  if (resume == Resume::sse) headers.last_event_id = request.header("last-event-id");
  return parse_opening(request.target, headers, resume);
}

// Whether a request from `origin` (its Origin header: "scheme://host[:port]") may use the
// live endpoints: any when `allowed` is empty, else an exact match (scheme and host compared
// without regard to ASCII case, as browsers lower-case them).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// One Server-Sent Event: "id: <id>\nevent: <event>\ndata: <line>\n...\n\n", a data line per
// line of `data` (CR, LF or CRLF). An empty id or event leaves its field out; line breaks in
// them are dropped (they would start a field of their own).
std::string sse_message(std::string_view id, std::string_view event, std::string_view data);
// ": <text>\n\n": ignored by EventSource, keeps proxies from closing an idle stream.
std::string sse_comment(std::string_view text);
// "retry: <ms>\n\n": how long EventSource waits before it reconnects.
std::string sse_retry(std::uint64_t ms);

// {"id":"<id>","channel":"<channel>","notification":<notification_json>}: a WebSocket text
// frame and an SSE event's data. `notification_json` is inserted as is (pushgw wrote it).
std::string message_json(std::string_view id, std::string_view channel, std::string_view notification_json);

}  // namespace pushgw::web

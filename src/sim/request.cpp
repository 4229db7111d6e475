#include "pushgw/sim/request.hpp"

namespace pushgw::sim {

void Request::clear() {
  method_.clear();
  path_.clear();
  header_text_.clear();
  fields_.clear();
  body_.clear();
  body_size_ = 0;
}

void Request::add_header(std::string_view name, std::string_view value) {
  Field field{};
  field.name_offset = static_cast<std::uint32_t>(header_text_.size());
  field.name_size = static_cast<std::uint32_t>(name.size());
  header_text_.append(name);
  field.value_offset = static_cast<std::uint32_t>(header_text_.size());
  field.value_size = static_cast<std::uint32_t>(value.size());
  header_text_.append(value);
  fields_.push_back(field);
}

void Request::append_body(std::string_view data, std::size_t limit) {
  body_size_ += data.size();
  if (body_.size() < limit) body_.append(data.substr(0, limit - body_.size()));
}

bool Request::has_header(std::string_view name) const { return header_count(name) > 0; }

std::string_view Request::header(std::string_view name) const {
  const std::string_view text = header_text_;
  for (const auto& field : fields_) {
    if (text.substr(field.name_offset, field.name_size) == name) {
      return text.substr(field.value_offset, field.value_size);
    }
  }
  return {};
}

std::size_t Request::header_count(std::string_view name) const {
  const std::string_view text = header_text_;
  std::size_t count = 0;
  for (const auto& field : fields_) {
    if (text.substr(field.name_offset, field.name_size) == name) ++count;
  }
  return count;
}

void Response::clear() {
  status = 200;
  headers.clear();
  body.clear();
  no_answer = false;
  reason = {};
  delivered = false;
  delivery_key = 0;
  enqueued_ms = 0;
}

void Response::set_json(int status_code, std::string json_body) {
  status = status_code;
  body = std::move(json_body);
  headers.emplace_back("content-type", "application/json");
}

}  // namespace pushgw::sim

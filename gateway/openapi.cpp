#include "gateway/openapi.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace bookstore::http {

namespace {

using nlohmann::json;

json ref(const std::string& schema) {
  return {{"$ref", "#/components/schemas/" + schema}};
}

json schemas() {
  json money = {{"type", "object"},
                {"required", {"amount", "currency"}},
                {"properties",
                 {{"amount", {{"type", "integer"}, {"description", "minor units (cents)"}}},
                  {"currency", {{"type", "string"}, {"pattern", "^[A-Z]{3}$"}}}}}};
  json strings = {{"type", "array"}, {"items", {{"type", "string"}}}};
  json book = {
    {"type", "object"},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"isbn", {{"type", "string"}}},
      {"title", {{"type", "string"}}},
      {"authors", strings},
      {"genres", strings},
      {"description", {{"type", "string"}}},
      {"price", ref("Money")},
      {"published_year", {{"type", "integer"}, {"nullable", true}}},
      {"available", {{"type", "integer"}, {"description", "stock on hand minus live reservations"}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};
  json fields = {{"isbn", {{"type", "string"}, {"description", "ISBN-10 or ISBN-13"}}},
                 {"title", {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}}},
                 {"authors", {{"type", "array"}, {"minItems", 1}, {"maxItems", 20},
                              {"items", {{"type", "string"}}}}},
                 {"genres", {{"type", "array"}, {"maxItems", 20}, {"items", {{"type", "string"}}}}},
                 {"description", {{"type", "string"}, {"maxLength", 10000}}},
                 {"price", ref("Money")},
                 {"published_year", {{"type", "integer"}, {"nullable", true}}}};
  json create = {{"type", "object"},
                 {"required", {"isbn", "title", "authors", "price"}},
                 {"properties", fields}};
  create["properties"]["stock"] = {{"type", "integer"}, {"minimum", 0}};
  json error = {
    {"type", "object"},
    {"properties",
     {{"error",
       {{"type", "object"},
        {"required", {"code", "message", "request_id"}},
        {"properties",
         {{"code", {{"type", "string"}}},
          {"message", {{"type", "string"}}},
          {"request_id", {{"type", "string"}}},
          {"field", {{"type", "string"}}},
          {"book_id", {{"type", "string"}}}}}}}}}};
  return {
    {"Money", money},
    {"Book", book},
    {"BookList",
     {{"type", "object"},
      {"properties",
       {{"items", {{"type", "array"}, {"items", ref("Book")}}},
        {"next_cursor", {{"type", "string"}, {"nullable", true}}}}}}},
    {"BookCreate", create},
    {"BookPatch", {{"type", "object"}, {"properties", fields}}},
    {"StockDelta",
     {{"type", "object"}, {"required", {"delta"}}, {"properties", {{"delta", {{"type", "integer"}}}}}}},
    {"StockLevel",
     {{"type", "object"},
      {"properties",
       {{"book_id", {{"type", "string"}}},
        {"on_hand", {{"type", "integer"}}},
        {"reserved", {{"type", "integer"}}},
        {"available", {{"type", "integer"}}}}}}},
    {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}}},
    {"Ready",
     {{"type", "object"},
      {"properties",
       {{"status", {{"type", "string"}}},
        {"checks", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}}}},
    {"Error", error},
  };
}

const char* describe_status(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "invalid_request";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict (isbn_taken, insufficient_stock, ...)";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return "see API.md";
  }
}

} // namespace

std::string openapi_document(const router& r) {
  json paths = json::object();
  for (auto& rt : r.routes()) {
    json op = {{"operationId", rt.doc.operation_id}, {"summary", rt.doc.summary}};
    json parameters = json::array();
    for (auto& seg : rt.segments)
      if (seg.size() > 2 && seg.front() == '{')
        parameters.push_back({{"name", seg.substr(1, seg.size() - 2)},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}});
    for (auto& q : rt.doc.query)
      parameters.push_back(
        {{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    if (!parameters.empty())
      op["parameters"] = parameters;
    if (!rt.doc.request_schema.empty())
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", ref(rt.doc.request_schema)}}}}}};
    json responses = json::object();
    for (auto status : rt.doc.statuses) {
      json resp = {{"description", describe_status(status)}};
      if (status >= 400)
        resp["content"] = {{"application/json", {{"schema", ref("Error")}}}};
      else if (!rt.doc.response_schema.empty())
        resp["content"] = {{"application/json", {{"schema", ref(rt.doc.response_schema)}}}};
      responses[std::to_string(status)] = resp;
    }
    op["responses"] = responses;
    std::string method = rt.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[rt.pattern][method] = op;
  }
  json doc = {{"openapi", "3.0.3"},
              {"info",
               {{"title", "Bookstore HTTP API"},
                {"version", "1"},
                {"description", "The public contract (API.md). Errors: "
                                "{\"error\":{\"code\",\"message\",\"request_id\"}}."}}},
              {"paths", paths},
              {"components", {{"schemas", schemas()}}}};
  return doc.dump();
}

} // namespace bookstore::http

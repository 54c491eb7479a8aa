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
    {"User",
     {{"type", "object"},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"email", {{"type", "string"}}},
        {"name", {{"type", "string"}}},
        {"roles", strings},
        {"mfa_enabled", {{"type", "boolean"}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}}}}}},
    {"Register",
     {{"type", "object"},
      {"required", {"email", "password", "name"}},
      {"properties",
       {{"email", {{"type", "string"}, {"maxLength", 254}}},
        {"password", {{"type", "string"}, {"minLength", 8}, {"maxLength", 128}}},
        {"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}}}}}},
    {"Login",
     {{"type", "object"},
      {"required", {"email", "password"}},
      {"properties",
       {{"email", {{"type", "string"}}},
        {"password", {{"type", "string"}}},
        {"mfa_code", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}}}}}},
    {"Refresh",
     {{"type", "object"},
      {"required", {"refresh_token"}},
      {"properties", {{"refresh_token", {{"type", "string"}}}}}}},
    {"Tokens",
     {{"type", "object"},
      {"properties",
       {{"access_token", {{"type", "string"}, {"description", "JWT HS256, 15 minutes"}}},
        {"refresh_token", {{"type", "string"}}},
        {"token_type", {{"type", "string"}, {"enum", {"Bearer"}}}},
        {"expires_in", {{"type", "integer"}}},
        {"session_id", {{"type", "string"}}}}}}},
    {"MePatch", {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}}},
    {"MfaSetup",
     {{"type", "object"},
      {"properties",
       {{"secret", {{"type", "string"}, {"description", "base32"}}},
        {"otpauth_uri", {{"type", "string"}}}}}}},
    {"MfaCode",
     {{"type", "object"},
      {"required", {"code"}},
      {"properties", {{"code", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}}}}}},
    {"DeleteMe",
     {{"type", "object"},
      {"required", {"password"}},
      {"properties", {{"password", {{"type", "string"}}}, {"mfa_code", {{"type", "string"}}}}}}},
    {"Deletion",
     {{"type", "object"},
      {"properties",
       {{"status", {{"type", "string"}, {"enum", {"deletion_scheduled"}}}},
        {"purge_after", {{"type", "string"}, {"format", "date-time"}}}}}}},
    {"Export",
     {{"type", "object"},
      {"properties",
       {{"profile", ref("User")},
        {"orders", {{"type", "array"}, {"items", {{"type", "object"}}}}},
        {"sessions", {{"type", "array"}, {"items", {{"type", "object"}}}}},
        {"audit", {{"type", "array"}, {"items", {{"type", "object"}}}}},
        {"exported_at", {{"type", "string"}, {"format", "date-time"}}}}}}},
    {"CartQuantity",
     {{"type", "object"},
      {"required", {"quantity"}},
      {"properties", {{"quantity", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}}}}}},
    {"Cart",
     {{"type", "object"},
      {"properties",
       {{"items",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"book_id", {{"type", "string"}}},
              {"title", {{"type", "string"}}},
              {"quantity", {{"type", "integer"}}},
              {"unit_price", ref("Money")}}}}}}},
        {"total", ref("Money")}}}}},
    {"Address",
     {{"type", "object"},
      {"required", {"name", "line1", "city", "postal_code", "country"}},
      {"properties",
       {{"name", {{"type", "string"}, {"maxLength", 200}}},
        {"line1", {{"type", "string"}, {"maxLength", 200}}},
        {"line2", {{"type", "string"}, {"maxLength", 200}}},
        {"city", {{"type", "string"}, {"maxLength", 100}}},
        {"postal_code", {{"type", "string"}, {"maxLength", 20}}},
        {"country", {{"type", "string"}, {"minLength", 2}, {"maxLength", 56}}}}}}},
    {"OrderRequest",
     {{"type", "object"},
      {"required", {"payment", "shipping_address"}},
      {"properties",
       {{"items",
         {{"type", "array"},
          {"description", "omitted: the cart's items (the cart is emptied on success)"},
          {"items",
           {{"type", "object"},
            {"required", {"book_id", "quantity"}},
            {"properties",
             {{"book_id", {{"type", "string"}}},
              {"quantity", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}}}}}}}},
        {"payment",
         {{"type", "object"},
          {"required", {"token"}},
          {"properties", {{"token", {{"type", "string"}, {"pattern", "^tok_"}}}}}}},
        {"shipping_address", ref("Address")}}}}},
    {"Order",
     {{"type", "object"},
      {"properties",
       {{"id", {{"type", "string"}}},
        {"user_id", {{"type", "string"}}},
        {"status",
         {{"type", "string"},
          {"enum",
           {"pending", "reserved", "payment_pending", "manual_review", "confirmed", "shipped",
            "delivered", "rejected", "payment_failed", "cancelled", "refunded"}}}},
        {"items",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"book_id", {{"type", "string"}}},
              {"title", {{"type", "string"}}},
              {"quantity", {{"type", "integer"}}},
              {"unit_price", ref("Money")}}}}}}},
        {"total", ref("Money")},
        {"shipping_address", ref("Address")},
        {"payment",
         {{"type", "object"},
          {"properties", {{"id", {{"type", "string"}}}, {"status", {{"type", "string"}}}}}}},
        {"shipment",
         {{"type", "object"},
          {"nullable", true},
          {"properties",
           {{"status", {{"type", "string"}}},
            {"carrier", {{"type", "string"}}},
            {"tracking_number", {{"type", "string"}}}}}}},
        {"status_history",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"status", {{"type", "string"}}},
              {"at", {{"type", "string"}, {"format", "date-time"}}}}}}}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
        {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}}},
    {"OrderList",
     {{"type", "object"},
      {"properties",
       {{"items", {{"type", "array"}, {"items", ref("Order")}}},
        {"next_cursor", {{"type", "string"}, {"nullable", true}}}}}}},
    {"Shipment",
     {{"type", "object"},
      {"required", {"carrier", "tracking_number"}},
      {"properties",
       {{"carrier", {{"type", "string"}, {"maxLength", 100}}},
        {"tracking_number", {{"type", "string"}, {"maxLength", 100}}}}}}},
    {"Faults",
     {{"type", "object"},
      {"properties",
       {{"payment_provider", {{"type", "string"}, {"enum", {"ok", "down", "slow"}}}}}}}},
  };
}

const char* describe_status(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 402: return "payment_declined";
    case 401: return "unauthenticated / invalid_credentials / mfa_required / invalid_mfa_code";
    case 403: return "forbidden";
    case 429: return "rate_limited";
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
    if (!rt.doc.body_types.empty()) {
      json content = json::object();
      for (auto& t : rt.doc.body_types)
        content[t] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
      op["requestBody"] = {{"required", true}, {"content", content}};
    }
    if (!rt.doc.role.empty()) {
      op["security"] = json::array({{{"bearer", json::array()}}});
      if (rt.doc.role != "customer")
        op["x-required-role"] = rt.doc.role;
    }
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
              {"components",
               {{"schemas", schemas()},
                {"securitySchemes",
                 {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}}};
  return doc.dump();
}

} // namespace bookstore::http

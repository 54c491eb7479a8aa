#include "actors/common/ids.hpp"
#include "actors/common/time.hpp"
#include "gateway/errors.hpp"
#include "gateway/http_api.hpp"
#include "gateway/request_body.hpp"
#include "gateway/routes/routes.hpp"
#include "gateway/views.hpp"

#include <memory>
#include <mutex>

namespace bookstore::http {

namespace {

/// Runs `next` once the caller's session entity confirms the session is live: a session revoked
/// on another node is refused here even when Redis could not tell us.
template <class Next>
void with_session(backend& be, const request& req, responder done, Next next) {
  be.ask(check_session{context_of(req), req.who.session_id},
         [req, done = std::move(done), next = std::move(next)](outcome<session_view> o) mutable {
           if (!o)
             return done(from_error(o.error, req.request_id));
           next(req, std::move(done));
         });
}

template <class T>
callback<T> reply_user(const request& req, responder done) {
  return [rid = req.request_id, done = std::move(done)](outcome<T> o) {
    if (!o)
      return done(from_error(o.error, rid));
    done(json(200, user_json(*o.value)));
  };
}

void get_me(backend& be, const request& req, responder done) {
  with_session(be, req, std::move(done), [&be](const request& r, responder d) {
    be.ask(get_user{context_of(r), r.who.user_id}, reply_user<user_view>(r, std::move(d)));
  });
}

void patch_me(backend& be, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto name = read_string(*obj, "name", 1, 100, err);
  if (!err.field.empty())
    return done(invalid_body(err, req.request_id));
  if (name && name->find_first_not_of(" \t") == std::string::npos)
    return done(invalid("name", "name must not be blank", req.request_id));
  with_session(be, req, std::move(done),
               [&be, name = name.value_or("")](const request& r, responder d) {
                 if (name.empty())
                   return be.ask(get_user{context_of(r), r.who.user_id},
                                 reply_user<user_view>(r, std::move(d)));
                 be.ask(update_user{context_of(r), r.who.user_id, name},
                        reply_user<user_view>(r, std::move(d)));
               });
}

void mfa_setup(backend& be, const request& req, responder done) {
  with_session(be, req, std::move(done), [&be](const request& r, responder d) {
    be.ask(setup_mfa{context_of(r), r.who.user_id, r.client_ip},
           [rid = r.request_id, d = std::move(d)](outcome<mfa_enrollment> o) {
             if (!o)
               return d(from_error(o.error, rid));
             json_writer w;
             w.begin_object().key("secret").value(o.value->secret);
             w.key("otpauth_uri").value(o.value->otpauth_uri).end_object();
             d(json(200, w.take()));
           });
  });
}

/// "image/png" or "image/jpeg" if the bytes start like one (their magic numbers), else "".
std::string sniff(const std::string& bytes) {
  static const std::string png{"\x89PNG\r\n\x1a\n", 8};
  if (bytes.size() >= png.size() && bytes.compare(0, png.size(), png) == 0)
    return "image/png";
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF
      && static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF)
    return "image/jpeg";
  return {};
}

bool six_digits(const std::string& s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

void mfa_enable(backend& be, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto code = read_string(*obj, "code", 6, 6, err);
  if (!code || !six_digits(*code))
    return done(invalid("code", "code must be the 6 digits the authenticator app shows",
                        req.request_id));
  with_session(be, req, std::move(done), [&be, code = *code](const request& r, responder d) {
    be.ask(enable_mfa{context_of(r), r.who.user_id, code, r.client_ip},
           reply_user<user_view>(r, std::move(d)));
  });
}

void put_picture(backend& be, const request& req, responder done) {
  auto type = media_type(req.content_type);
  auto sniffed = sniff(req.body);
  if (sniffed.empty() || sniffed != type)
    return done(error_response(400, "invalid_request",
                               "the body is not a " + type + " image (checked by its first bytes)",
                               req.request_id));
  with_session(be, req, std::move(done), [&be, type](const request& r, responder d) {
    be.ask(put_avatar{context_of(r), r.who.user_id, avatar{type, r.body}},
           [&be, r, d = std::move(d)](outcome<avatar> o) {
             if (!o)
               return d(from_error(o.error, r.request_id));
             audit(be, r, "user.avatar_changed", r.who.user_id);
             response res;
             res.status = 204;
             d(std::move(res));
           });
  });
}

void get_picture(backend& be, const request& req, const params& ps, responder done) {
  auto& id = param(ps, "id");
  if (!ids::well_formed(id, "usr"))
    return done(error_response(404, "not_found", "no such picture", req.request_id));
  be.ask(get_avatar{context_of(req), id},
         [rid = req.request_id, done = std::move(done)](outcome<avatar> o) {
           if (!o)
             return done(from_error(o.error, rid));
           response res;
           res.content_type = o.value->content_type;
           res.body = std::move(o.value->bytes);
           res.headers.emplace_back("Cache-Control", "private, max-age=60");
           res.headers.emplace_back("X-Content-Type-Options", "nosniff");
           done(std::move(res));
         });
}

/// Every order of the caller, page by page (newest first), then `then(orders)`.
void collect_orders(backend& be, const request& r, std::string cursor,
                    std::shared_ptr<std::vector<order_view>> acc,
                    std::function<void(outcome<std::vector<order_view>>)> then) {
  list_orders q{context_of(r), r.who.user_id, "", 100, std::move(cursor)};
  be.ask(std::move(q), [&be, r, acc, then = std::move(then)](outcome<order_page> p) mutable {
    if (!p)
      return then(outcome<std::vector<order_view>>::fail(p.error));
    for (auto& o : p.value->items) acc->push_back(std::move(o));
    if (p.value->next_cursor.empty())
      return then(outcome<std::vector<order_view>>::ok(std::move(*acc)));
    collect_orders(be, r, p.value->next_cursor, acc, std::move(then));
  });
}

void export_me(backend& be, const request& req, responder done) {
  with_session(be, req, std::move(done), [&be](const request& r, responder d) {
    be.ask(export_user{context_of(r), r.who.user_id, r.client_ip},
           [&be, r, d = std::move(d)](outcome<user_export> o) mutable {
             if (!o)
               return d(from_error(o.error, r.request_id));
             // The carts live in the session entities: ask each (ended ones have none).
             struct join {
               user_export data;
               std::vector<order_view> orders;
               std::mutex mtx;
               std::vector<std::pair<std::string, cart_contents>> carts;
               size_t left = 0;
               responder done;
             };
             auto j = std::make_shared<join>();
             j->data = std::move(*o.value);
             j->done = std::move(d);
             collect_orders(be, r, "", std::make_shared<std::vector<order_view>>(),
                            [&be, r, j](outcome<std::vector<order_view>> orders) {
               if (!orders)
                 return j->done(from_error(orders.error, r.request_id));
               j->orders = std::move(*orders.value);
               if (j->data.sessions.empty())
                 return j->done(json(200, export_json(j->data, {}, j->orders, unix_ms_now())));
               // The most recent sessions only: older ones expired long ago (and asking wakes
               // each entity).
               constexpr size_t max_carts = 100;
               auto& all = j->data.sessions;
               auto from = all.size() > max_carts ? all.size() - max_carts : 0;
               std::vector<std::string> sids;
               for (size_t i = from; i < all.size(); ++i) sids.push_back(all[i].id);
               j->left = sids.size();
               for (auto& sid : sids)
                 be.ask(get_cart{context_of(r), sid}, [j, sid](outcome<cart_contents> c) {
                   std::unique_lock<std::mutex> lock{j->mtx};
                   if (c)
                     j->carts.emplace_back(sid, std::move(*c.value));
                   if (--j->left != 0)
                     return;
                   lock.unlock();
                   j->done(json(200, export_json(j->data, j->carts, j->orders, unix_ms_now())));
                 });
             });
           });
  });
}

void delete_me(backend& be, auth::gate& gate, const request& req, responder done) {
  body_error err;
  auto obj = parse_object(req.body.empty() ? std::string_view{"{}"} : req.body, err);
  if (!obj)
    return done(invalid_body(err, req.request_id));
  auto password = read_string(*obj, "password", 1, 128, err);
  if (!password)
    return done(invalid("password",
                        err.field.empty() ? "password is required to delete the account"
                                          : err.message,
                        req.request_id));
  auto code = read_string(*obj, "mfa_code", 0, 16, err);
  if (!err.field.empty())
    return done(invalid_body(err, req.request_id));
  with_session(be, req, std::move(done),
               [&be, &gate, pw = *password, code = code.value_or("")](const request& r,
                                                                        responder d) {
                 be.ask(delete_user{context_of(r), r.who.user_id, pw, code, r.client_ip},
                        [&gate, r, d = std::move(d)](outcome<deletion_receipt> o) {
                          if (!o)
                            return d(from_error(o.error, r.request_id));
                          auto until = unix_ms_now() / 1000 + gate.access_ttl_s();
                          for (auto& sid : o.value->session_ids) gate.revoke(sid, "", until);
                          gate.revoke(r.who.session_id, r.who.jti, until);
                          json_writer w;
                          w.begin_object().key("status").value("deletion_scheduled");
                          w.key("purge_after").value(rfc3339(o.value->purge_after)).end_object();
                          d(json(202, w.take()));
                        });
               });
}

} // namespace

void add_me_routes(router& r, backend& be, auth::gate& gate) {
  r.add("GET", "/v1/me", {"getMe", "The caller's account", {200, 401, 429}, "", "User", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          get_me(be, req, std::move(done));
        });
  r.add("PATCH", "/v1/me",
        {"updateMe", "Change the caller's profile", {200, 400, 401, 413, 415, 429}, "MePatch",
         "User", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          patch_me(be, req, std::move(done));
        });
  r.add("POST", "/v1/me/mfa/setup",
        {"setupMfa", "A new TOTP secret (not enabled until confirmed)", {200, 401, 409, 429}, "",
         "MfaSetup", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          mfa_setup(be, req, std::move(done));
        });
  r.add("POST", "/v1/me/mfa/enable",
        {"enableMfa", "Enable TOTP with a current code", {200, 400, 401, 409, 413, 415, 429},
         "MfaCode", "User", {}, "customer"},
        [&be](const request& req, const params&, responder done) {
          mfa_enable(be, req, std::move(done));
        });
  r.add("PUT", "/v1/me/avatar",
        {"putAvatar", "Upload the caller's picture (PNG or JPEG, at most 2 MiB)",
         {204, 400, 401, 413, 415, 429}, "", "", {}, "customer", {"image/png", "image/jpeg"}},
        [&be](const request& req, const params&, responder done) {
          put_picture(be, req, std::move(done));
        });
  r.add("GET", "/v1/users/{id}/avatar",
        {"getAvatar", "A user's picture", {200, 404, 429}, "", "", {}},
        [&be](const request& req, const params& ps, responder done) {
          get_picture(be, req, ps, std::move(done));
        });
  r.add("GET", "/v1/me/export",
        {"exportMe", "Everything held about the caller", {200, 401, 429}, "", "Export", {},
         "customer"},
        [&be](const request& req, const params&, responder done) {
          export_me(be, req, std::move(done));
        });
  r.add("DELETE", "/v1/me",
        {"deleteMe", "Schedule the deletion of the caller's account",
         {202, 400, 401, 413, 415, 429}, "DeleteMe", "Deletion", {}, "customer"},
        [&be, &gate](const request& req, const params&, responder done) {
          delete_me(be, gate, req, std::move(done));
        });
}

} // namespace bookstore::http

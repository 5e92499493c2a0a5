// What the server admits of a request head before any route sees it (RFC 9112): a body length
// it can determine without guessing, exactly one valid Host, and the target in canonical origin
// form. A head it refuses is answered with the error and the connection closed: after an
// ambiguous head, nothing on the connection can be trusted to start a request.
#pragma once

#include "net/http_types.hpp"

#include <plume/core/error.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace plume::net {

// nullopt when the request may go on, rewritten in place: an absolute-form target becomes
// origin-form with its authority as Host, a trailing dot leaves the Host's name, and the path is
// normalised (net/request_target.hpp) with the query kept as sent. Otherwise the error to answer:
// - 400 for Transfer-Encoding with Content-Length, chunked that is not the last coding or appears
//   twice, Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1, 6.3);
// - 501 for a transfer coding other than chunked (RFC 9112 6.1);
// - 400 for no Host in HTTP/1.1, more than one Host, or one that is no host[:port] (RFC 9112 3.2)
//   or whose name has an empty label ("a..b", ".a");
// - 400 for a target that is not origin-form, absolute-form (http or https, no userinfo) or "*"
//   for OPTIONS, or whose path normalize_path refuses.
std::optional<Error> admit_request_head(Request& head);

// The transfer codings of a message, in order, over all its Transfer-Encoding lines.
std::vector<std::string_view> transfer_codings(const http::fields& fields);

}  // namespace plume::net

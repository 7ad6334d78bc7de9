//! What keeps a page of another site from pulling the operator's levers through the operator's
//! browser (cross-site request forgery) or showing the dashboard in a frame to trick a click
//! (clickjacking). See the module's [Security](super#security) section for what it covers and
//! what it leaves to the application.

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::Response,
};

/// The header every admin action must carry (any value): `X-Breaker-Admin`. The dashboard's
/// buttons send it; a form on another site cannot, and a script on another site could only
/// after a CORS preflight that the routers never grant.
///
/// ```
/// assert_eq!(fusebox::http::ADMIN_HEADER, "x-breaker-admin");
/// ```
pub const ADMIN_HEADER: &str = "x-breaker-admin";

/// The policy on every answer: no framing (`frame-ancestors`), and a page that loads its own
/// inline script and style only and talks to its own origin only.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                      connect-src 'self'; base-uri 'none'; form-action 'none'; \
                      frame-ancestors 'none'";

/// Adds the headers that keep every answer of the routers out of other sites' frames and out
/// of content sniffing.
pub(super) async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether a `POST` to an admin route may act: `Err` says why not, for a `403`.
///
/// The header [`ADMIN_HEADER`] is what a cross-site page cannot forge. Beyond it, a browser
/// says where a request came from: `Sec-Fetch-Site` (every current browser), else `Origin`
/// (older ones), compared with the request's own `Host`, as Go's
/// `net/http.CrossOriginProtection` does. Requests without either (scripts, `curl`) were
/// not made by a page, so the header alone lets them act.
pub(super) fn check_action(headers: &HeaderMap) -> Result<(), String> {
    if !headers.contains_key(HeaderName::from_static(ADMIN_HEADER)) {
        return Err(format!(
            "refused: an admin action needs the header `X-Breaker-Admin` (any value), which \
             the dashboard's buttons send and a page of another site cannot; from a script: \
             curl -X POST -H 'X-Breaker-Admin: 1' …{}",
            came_from(headers)
        ));
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user's own doing (typed, a bookmark); `same-origin`: the dashboard.
        return match site.as_bytes() {
            b"same-origin" | b"none" => Ok(()),
            _ => Err(format!(
                "refused: the request came from another site (Sec-Fetch-Site: {}); admin \
                 actions are taken only from the dashboard's own origin",
                printable(site)
            )),
        };
    }
    match headers.get(header::ORIGIN) {
        None => Ok(()),
        Some(origin) if same_origin(origin, headers.get(header::HOST)) => Ok(()),
        Some(origin) => Err(format!(
            "refused: the request came from another origin (Origin: {}, Host: {}); admin \
             actions are taken only from the dashboard's own origin",
            printable(origin),
            headers.get(header::HOST).map_or("none".into(), printable),
        )),
    }
}

/// Where a refused request said it came from, for its error message.
fn came_from(headers: &HeaderMap) -> String {
    match headers
        .get("sec-fetch-site")
        .or_else(|| headers.get(header::ORIGIN))
    {
        Some(from) => format!(" (this request came from {})", printable(from)),
        None => String::new(),
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the server at `host` (`host[:port]`), the
/// default port of the scheme written or not. `null` (a sandboxed frame, a redirect from
/// elsewhere) is never the same origin.
fn same_origin(origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(HeaderValue::to_str)) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let bare = |authority: &str| -> String {
        let authority = authority.to_ascii_lowercase();
        match authority.strip_suffix(default_port) {
            Some(bare) => bare.to_owned(),
            None => authority,
        }
    };
    !authority.is_empty() && bare(authority) == bare(host)
}

/// A header's value for an error message: ASCII as it is, anything else escaped, at most 100
/// bytes (a request's headers are the requester's to choose).
fn printable(value: &HeaderValue) -> String {
    let bytes = value.as_bytes();
    let shown: String = bytes
        .iter()
        .take(100)
        .flat_map(|&byte| std::ascii::escape_default(byte))
        .map(char::from)
        .collect();
    if bytes.len() > 100 {
        shown + "…"
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn an_action_needs_the_header_and_no_sign_of_another_site() {
        let allowed = [
            headers(&[("x-breaker-admin", "1")]),
            headers(&[("x-breaker-admin", "1"), ("sec-fetch-site", "same-origin")]),
            headers(&[("x-breaker-admin", ""), ("sec-fetch-site", "none")]),
            headers(&[
                ("x-breaker-admin", "1"),
                ("origin", "http://ops.example:8080"),
                ("host", "OPS.example:8080"),
            ]),
            headers(&[
                ("x-breaker-admin", "1"),
                ("origin", "https://ops.example"),
                ("host", "ops.example:443"),
            ]),
        ];
        for allowed in allowed {
            assert_eq!(check_action(&allowed), Ok(()), "{allowed:?}");
        }
        let refused = [
            headers(&[]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("x-breaker-admin", "1"), ("sec-fetch-site", "cross-site")]),
            headers(&[("x-breaker-admin", "1"), ("sec-fetch-site", "same-site")]),
            // Sec-Fetch-Site decides when it is there, whatever the origin says.
            headers(&[
                ("x-breaker-admin", "1"),
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://ops.example"),
                ("host", "ops.example"),
            ]),
            headers(&[
                ("x-breaker-admin", "1"),
                ("origin", "http://evil.example"),
                ("host", "ops.example"),
            ]),
            headers(&[
                ("x-breaker-admin", "1"),
                ("origin", "null"),
                ("host", "ops.example"),
            ]),
            headers(&[("x-breaker-admin", "1"), ("origin", "http://ops.example")]),
            headers(&[
                ("x-breaker-admin", "1"),
                ("origin", "https://ops.example"),
                ("host", "ops.example:80"),
            ]),
        ];
        for refused in refused {
            let error = check_action(&refused).expect_err("refused");
            assert!(error.starts_with("refused: "), "{error}");
        }
    }

    #[test]
    fn a_refusal_says_what_is_needed_and_shows_headers_bounded() {
        let error = check_action(&headers(&[("origin", "http://evil.example")])).unwrap_err();
        assert!(
            error.contains("X-Breaker-Admin") && error.contains("http://evil.example"),
            "{error}"
        );
        let long = HeaderValue::from_str(&format!("http://{}", "e".repeat(5_000))).unwrap();
        let mut map = headers(&[("x-breaker-admin", "1"), ("host", "ops.example")]);
        map.insert(header::ORIGIN, long);
        let error = check_action(&map).unwrap_err();
        assert!(error.len() < 400, "{error}");
        let odd = HeaderValue::from_bytes(b"cross\xffsite").unwrap();
        let mut map = headers(&[("x-breaker-admin", "1")]);
        map.insert("sec-fetch-site", odd);
        assert!(check_action(&map).unwrap_err().contains(r"cross\xffsite"));
    }
}

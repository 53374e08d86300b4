//! One attempt: a POST over the run's keep-alive agent, with a deadline for headers and
//! body together, classified into what the client does next.

use super::request::{self, Answer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one attempt gave.
#[derive(Debug)]
pub enum Attempt {
    Ok {
        status: u16,
        answer: Answer,
    },
    /// A failure. `status` is the HTTP status (none for a transport failure), `retry`
    /// whether another attempt may succeed, `wait` a server-given `Retry-After`.
    Failed {
        status: Option<u16>,
        retry: bool,
        wait: Option<Duration>,
        message: String,
    },
}

/// The statuses that are never retried (LANGUAGE.md §4).
pub fn no_retry(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 422)
}

/// A blocking HTTP agent that keeps connections alive; statuses are not errors.
pub fn agent(max_idle: usize) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(max_idle.max(8))
        .max_idle_connections_per_host(max_idle.max(8))
        .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// Whether `url` names this machine (no proxy is used for it).
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
}

/// Sends `body` to `url`. `key` (the API key) only goes into the `Authorization` header.
pub fn attempt(
    agent: &ureq::Agent,
    url: &str,
    key: Option<&str>,
    body: &[u8],
    deadline: Duration,
) -> Attempt {
    let mut cfg = agent.post(url).config().timeout_global(Some(deadline));
    if loopback(url) {
        cfg = cfg.proxy(None);
    }
    let mut req = cfg.build().header("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    let mut resp = match req.send(body) {
        Ok(r) => r,
        Err(e) => return transport(e),
    };
    let status = resp.status().as_u16();
    let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let wait = retry_after(header("retry-after-ms").as_deref(), header("retry-after").as_deref());
    let text = match resp.body_mut().with_config().limit(64 << 20).read_to_string() {
        Ok(t) => t,
        Err(e) => {
            let Attempt::Failed { message, .. } = transport(e) else { unreachable!() };
            return Attempt::Failed {
                status: Some(status),
                retry: !no_retry(status),
                wait,
                message: format!("HTTP {status}, and the body could not be read: {message}"),
            };
        }
    };
    if (200..300).contains(&status) {
        return match request::answer(&text) {
            Ok(answer) => Attempt::Ok { status, answer },
            Err(m) => Attempt::Failed { status: Some(status), retry: true, wait, message: m },
        };
    }
    let retry = status == 429 || status == 408 || status >= 500;
    Attempt::Failed {
        status: Some(status),
        retry,
        wait,
        message: format!("HTTP {status}: {}", request::error_message(&text)),
    }
}

/// A failure before a status arrived (connection refused or reset, deadline passed): worth a
/// retry. Only the error's kind is kept, so no header can leak into a message.
fn transport(e: ureq::Error) -> Attempt {
    let message = match &e {
        ureq::Error::Timeout(_) => "no complete answer before the deadline (`timeout_s`)".into(),
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::BadUri(_) => "the model's base_url is not a valid URL".into(),
        other => format!("request failed: {other}"),
    };
    let retry = !matches!(e, ureq::Error::BadUri(_));
    Attempt::Failed { status: None, retry, wait: None, message }
}

/// The wait a response asks for: `retry-after-ms` (milliseconds), else `Retry-After` in
/// seconds or as an HTTP date.
pub fn retry_after(ms: Option<&str>, after: Option<&str>) -> Option<Duration> {
    if let Some(ms) = ms.and_then(|s| s.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let after = after?.trim();
    if let Ok(s) = after.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(1e9)));
    }
    let at = http_date(after)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(Duration::from_secs_f64((at as f64 - now).max(0.0)))
}

/// Seconds since the epoch of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110).
pub fn http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else { return None };
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let d: i64 = day.parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time.split(':').map(|t| t.parse().ok()).collect::<Option<_>>()?;
    let [h, mi, se] = hms.as_slice() else { return None };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("yesterday"), None);
        assert_eq!(http_date("Thu, 03 Dec 2026 15:42:39 GMT"), Some(1_796_312_559));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(None, Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("1500"), Some("9")), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after(None, Some("Thu, 01 Jan 1970 00:00:00 GMT")), Some(Duration::ZERO));
        assert_eq!(retry_after(None, Some("soon")), None);
        assert_eq!(retry_after(None, None), None);
        assert!(no_retry(422) && !no_retry(429) && !no_retry(500));
        assert!(loopback("http://127.0.0.1:80/v1") && !loopback("https://api.example.com/v1"));
    }
}

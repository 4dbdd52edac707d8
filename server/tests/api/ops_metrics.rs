//! `--metrics-listen`: the metrics are scraped over HTTP and read with a real Prometheus text
//! parser (PyPI's prometheus-client, from the venv scripts/setup.sh --test makes); each counter
//! moves by exactly the number of requests of its kind.

use std::{collections::BTreeMap, io::Write, process::Command};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// `(metric sample name, labels)` to value, for every sample of one scrape.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

/// The python with prometheus_client: `GUESTPASS_TEST_PYTHON`, else setup.sh's venv (`.tools/py`).
fn python() -> String {
    std::env::var("GUESTPASS_TEST_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/py/bin/python").to_owned())
}

/// Parses `text` with both of prometheus_client's parsers (the classic text format's and
/// OpenMetrics', which is what is served), which must agree; the samples.
fn parse(text: &str) -> Samples {
    const SCRIPT: &str = r##"
import json, sys
from prometheus_client.parser import text_string_to_metric_families as classic
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
text = sys.stdin.read()
def samples(families):
    return sorted(([s.name, s.labels, s.value] for f in families for s in f.samples), key=lambda s: json.dumps(s, sort_keys=True))
a = samples(openmetrics(text))
b = samples(classic(text.replace("# EOF\n", "")))
assert a == b, ("the parsers disagree", a, b)
json.dump(a, sys.stdout)
"##;
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/setup.sh --test (it makes the venv)", python()));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the parser refused the metrics: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    let parsed: Vec<(String, BTreeMap<String, String>, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    parsed.into_iter().map(|(name, labels, value)| ((name, labels), value)).collect()
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let key = (name.to_owned(), labels);
    samples.get(&key).copied().unwrap_or_else(|| panic!("no sample {key:?} in the scrape"))
}

async fn scrape(app: &TestApp) -> (String, Samples) {
    let base = app.metrics.as_ref().expect("--metrics-listen set");
    let resp = app.client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test]
async fn counters_move_by_exactly_the_requests_made() {
    let app = spawn_app_with(|c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        c.anonymous_signup_limit = guestpass_server::config::parse_rate("8/1h").unwrap();
    })
    .await;
    let mut secrets = Vec::new();

    // An email user, and an anonymous user whose link of that email is refused (a conflict).
    assert_eq!(app.register("owner@example.com", "a long password").await.status(), StatusCode::CREATED);
    let body = serde_json::json!({ "username": "owner@example.com", "password": "a long password" });
    let owner = app.provider_login("local-userpass", body.clone(), None).await;
    assert_eq!(owner.status(), StatusCode::OK);
    let owner: Value = owner.json().await.unwrap();
    secrets.push(owner["user_id"].as_str().unwrap().to_owned());
    let wrong = serde_json::json!({ "username": "owner@example.com", "password": "not the password" });
    assert_eq!(app.provider_login("local-userpass", wrong, None).await.status(), StatusCode::UNAUTHORIZED);
    let linker = app.anonymous_login().await;
    let conflict = app.provider_login("local-userpass", body, Some(&linker.access_token)).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);

    // Anonymous logins until the sign-up limit answers 429.
    let mut anonymous = vec![linker];
    loop {
        let resp = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        let body: Value = resp.json().await.unwrap();
        anonymous.push(crate::helpers::Login {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
            device_id: String::new(),
            body,
        });
        assert!(anonymous.len() <= 8, "the limit never answered 429");
    }
    for login in &anonymous[..3] {
        assert_eq!(app.refresh(&login.refresh_token).await.status(), StatusCode::OK);
    }
    for _ in 0..2 {
        assert_eq!(app.refresh("not-a-refresh-token").await.status(), StatusCode::UNAUTHORIZED);
    }
    for login in &anonymous {
        secrets.extend([login.user_id.clone(), login.access_token.clone(), login.refresh_token.clone()]);
    }

    let (text, m) = scrape(&app).await;
    let logins = |provider, kind, outcome| {
        value(&m, "guestpass_logins_total", &[("provider", provider), ("kind", kind), ("outcome", outcome)])
    };
    let signed_up = anonymous.len() as f64;
    assert_eq!(logins("anon-user", "login", "success"), signed_up);
    assert_eq!(logins("anon-user", "login", "TooManyRequests"), 1.0);
    assert_eq!(logins("local-userpass", "login", "success"), 1.0);
    assert_eq!(logins("local-userpass", "login", "InvalidPassword"), 1.0);
    assert_eq!(logins("local-userpass", "link", "AccountNameInUse"), 1.0);
    assert_eq!(value(&m, "guestpass_refreshes_total", &[("outcome", "success")]), 3.0);
    assert_eq!(value(&m, "guestpass_refreshes_total", &[("outcome", "InvalidSession")]), 2.0);
    assert_eq!(value(&m, "guestpass_link_conflicts_total", &[("reason", "identity_owned_by_another_user")]), 1.0);
    assert_eq!(value(&m, "guestpass_rate_limited_total", &[("limit", "anonymous_signup")]), 1.0);
    // Latency by route template: the three good refreshes, and every anonymous login.
    let refreshes = [("method", "POST"), ("route", "/api/client/v2.0/auth/session"), ("status", "200")];
    assert_eq!(value(&m, "guestpass_request_duration_seconds_count", &refreshes), 3.0);
    let login_route = "/api/client/v2.0/app/{app_id}/auth/providers/{provider}/login";
    let logins_ok = [("method", "POST"), ("route", login_route), ("status", "200")];
    // The anonymous logins and the email login.
    assert_eq!(value(&m, "guestpass_request_duration_seconds_count", &logins_ok), signed_up + 1.0);
    assert_eq!(value(&m, "guestpass_users", &[("kind", "anonymous")]), signed_up);
    assert_eq!(value(&m, "guestpass_users", &[("kind", "signed_in")]), 1.0);
    assert_eq!(value(&m, "guestpass_store_write_queue", &[]), 0.0, "nothing is queued once every write was answered");

    // No raw path, id, email or token in any label.
    for (_, labels) in m.keys() {
        for v in labels.values() {
            assert!(!v.contains(APP_ID) && !v.contains('@'), "a raw value in a label: {v}");
        }
    }
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "the metrics hold a user id or a token");
    }
}

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_public_listener() {
    let app = spawn_app().await;
    assert!(app.metrics.is_none());
    let resp = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

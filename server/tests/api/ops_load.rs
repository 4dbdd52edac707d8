//! Login loops against a real server binary, shared by the shutdown and backup tests.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

/// What the loops saw.
#[derive(Default)]
pub struct Seen {
    /// Refresh tokens of answered logins, with when each answer was complete.
    pub answered: Mutex<Vec<(Instant, String)>>,
    /// Answers whose body was cut short or was not a whole login.
    pub incomplete: AtomicUsize,
    /// Answers that were complete but not 200.
    pub refused: AtomicUsize,
    /// Requests sent on a connection that then closed without an answer (a refused
    /// connection, the server no longer listening, is not one).
    pub cut: AtomicUsize,
}

pub struct LoginLoops {
    pub seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl LoginLoops {
    /// `n` loops of anonymous logins at `url` (the server's base); each ends at its first
    /// request that gets no answer (the server stopped listening) or at `stop`.
    pub fn start(n: usize, url: &str, app_id: &str) -> Self {
        let login_url = format!("{url}/api/client/v2.0/app/{app_id}/auth/providers/anon-user/login");
        let (seen, stop) = (Arc::new(Seen::default()), Arc::new(AtomicBool::new(false)));
        let client = reqwest::Client::new();
        let tasks = (0..n)
            .map(|_| {
                let (client, login_url, seen, stop) = (client.clone(), login_url.clone(), seen.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let resp = match client.post(&login_url).json(&serde_json::json!({})).send().await {
                            Ok(resp) => resp,
                            Err(e) => {
                                if !e.is_connect() {
                                    seen.cut.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                        };
                        let status = resp.status();
                        let body =
                            resp.bytes().await.ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
                        match body {
                            Some(body) if status == 200 => match body["refresh_token"].as_str() {
                                Some(token) => seen.answered.lock().unwrap().push((Instant::now(), token.to_owned())),
                                None => {
                                    seen.incomplete.fetch_add(1, Ordering::Relaxed);
                                }
                            },
                            Some(_) => {
                                seen.refused.fetch_add(1, Ordering::Relaxed);
                            }
                            None => {
                                seen.incomplete.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        LoginLoops { seen, stop, tasks }
    }

    pub fn answered(&self) -> usize {
        self.seen.answered.lock().unwrap().len()
    }

    /// Waits for every loop to end by itself (the server went away).
    pub async fn join(self) -> Arc<Seen> {
        for task in self.tasks {
            task.await.unwrap();
        }
        self.seen
    }

    /// Ends the loops and waits for them.
    pub async fn stop(self) -> Arc<Seen> {
        self.stop.store(true, Ordering::Relaxed);
        self.join().await
    }
}

/// How many of `tokens` do not refresh at `url`.
pub async fn not_refreshing(url: &str, tokens: &[String]) -> usize {
    let client = reqwest::Client::new();
    let mut lost = 0;
    for token in tokens {
        let resp = client.post(format!("{url}/api/client/v2.0/auth/session")).bearer_auth(token).send().await.unwrap();
        if resp.status() != reqwest::StatusCode::OK {
            lost += 1;
        }
    }
    lost
}

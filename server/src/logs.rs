//! Where log lines go and how they look (`--log-format`). `RUST_LOG` filters them.

use crate::config::LogFormat;

const DEFAULT_FILTER: &str = "guestpass_server=info,tower_http=warn";

/// Installs the process's subscriber: text for people, or one JSON object a line (event fields
/// at the top level, the request's span with its `id` under `span`) for log pipelines.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => subscriber.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())).init(),
        LogFormat::Json => subscriber.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

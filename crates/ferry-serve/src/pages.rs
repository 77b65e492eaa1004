//! The dashboard's pages: server-rendered HTML that works without JavaScript (each page
//! refreshes itself every few seconds while jobs run).

use ferry_journal::ItemRow;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::data::JobView;

const STYLE: &str = r#"
:root { --ink:#1d2733; --muted:#5f6b7a; --line:#e3e8ef; --bg:#f6f8fb; --accent:#0b63ce; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
header { background:#0f2742; color:#fff; padding:14px 28px; display:flex; align-items:baseline; gap:16px; }
header h1 { font-size:20px; margin:0; letter-spacing:.5px; }
header a { color:#fff; text-decoration:none; }
header .where { color:#b8c7da; font-size:13px; }
main { padding:22px 28px; }
.cards { display:flex; gap:14px; margin-bottom:18px; flex-wrap:wrap; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:130px; }
.card b { display:block; font-size:22px; }
.card span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th { text-align:left; font-size:12px; text-transform:uppercase; letter-spacing:.4px; color:var(--muted); background:#fafbfd; }
th, td { padding:8px 10px; border-bottom:1px solid var(--line); vertical-align:middle; }
tr:last-child td { border-bottom:0; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
a { color:var(--accent); }
code { font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace; background:#eef2f7; padding:2px 5px; border-radius:4px; word-break:break-all; }
td.id code, td.when, td.progress { white-space:nowrap; word-break:normal; }
table { font-size:13.5px; }
td.what { max-width:230px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; color:var(--muted); font-size:12.5px; }
.status { display:inline-block; padding:2px 9px; border-radius:999px; font-size:12px; font-weight:600; white-space:nowrap; }
.s-InProgress { background:#e4efff; color:#0b4fa8; }
.s-Completed { background:#e3f6e8; color:#17693a; }
.s-CompletedWithSkipped { background:#eef6e3; color:#4b6b17; }
.s-CompletedWithErrors, .s-CompletedWithErrorsAndSkipped { background:#fff1dc; color:#8a5200; }
.s-Failed { background:#fde5e5; color:#a11d1d; }
.s-Cancelled, .s-Interrupted { background:#eceff3; color:#4a5563; }
.bar { width:100px; height:8px; background:#e8edf3; border-radius:4px; overflow:hidden; display:inline-block; vertical-align:middle; }
.bar i { display:block; height:100%; background:var(--accent); }
.pct { margin-left:8px; color:var(--muted); font-variant-numeric:tabular-nums; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:6px 18px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 18px; }
dt { color:var(--muted); }
dd { margin:0; }
h2 { font-size:15px; margin:24px 0 10px; }
.links a { margin-right:14px; }
.empty { color:var(--muted); padding:18px; background:#fff; border:1px dashed var(--line); border-radius:8px; }
"#;

/// Bytes in binary units, as AzCopy shows sizes.
fn size(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value:.0} B") } else { format!("{value:.1} {}", units[unit]) }
}

/// A count of bytes, in binary units.
fn bytes(count: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    size(count as f64)
}

/// Unix seconds in UTC, to the second.
fn when(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC")).ok()
        })
        .unwrap_or_default()
}

/// Unix seconds in UTC, to the minute, without the zone (the column says it).
fn when_short(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]")).ok())
        .unwrap_or_default()
}

fn page(title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh { meta http-equiv="refresh" content="3"; }
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { h1 { a href="/" { "Ferry" } } span.where { (title) } }
                main { (body) }
            }
        }
    }
}

fn status(job: &JobView) -> Markup {
    let shown = job.shown_status();
    html! { span class={ "status s-" (shown) } data-status=(shown) { (shown) } }
}

fn progress(job: &JobView) -> Markup {
    let pct = job.percent();
    html! {
        span.bar { i style={ "width:" (format!("{pct:.1}")) "%" } {} }
        span.pct data-percent=(format!("{pct:.1}")) { (format!("{pct:.0}%")) }
    }
}

/// Every job, newest first.
pub(crate) fn index(jobs: &[JobView], folder: &str) -> Markup {
    let running = jobs.iter().filter(|j| j.status == ferry_journal::JobStatus::InProgress && !j.stalled).count();
    let failed = jobs.iter().filter(|j| j.failed > 0 || j.status == ferry_journal::JobStatus::Failed).count();
    let moved: u64 = jobs.iter().map(|j| j.bytes_done).sum();
    page(
        &format!("jobs in {folder}"),
        running > 0,
        html! {
            div.cards {
                div.card { b { (jobs.len()) } span { "jobs" } }
                div.card { b #running { (running) } span { "running" } }
                div.card { b { (failed) } span { "with failures" } }
                div.card { b { (bytes(moved)) } span { "moved" } }
            }
            @if jobs.is_empty() {
                p.empty { "No jobs yet. Jobs appear here as soon as they start (" code { "ferry copy" } ", " code { "ferry sync" } ", …)." }
            } @else {
                table #jobs {
                    thead { tr { th { "Job" } th { "Kind" } th { "Command" } th { "Status" } th { "Started (UTC)" } th { "Progress" } th.num { "Done / found" } th.num { "Failed" } th.num { "Skipped" } th.num { "Moved" } th.num { "Throughput" } } }
                    tbody {
                        @for job in jobs {
                            tr.job data-id=(job.id) {
                                td.id { a href={ "/jobs/" (job.id) } title=(job.id) { code { (job.id.get(..13).unwrap_or(&job.id)) } } }
                                td { (job.kind) }
                                td.what title=(job.command) { (job.command) }
                                td { (status(job)) }
                                td.when { (when_short(job.started)) }
                                td.progress { (progress(job)) }
                                td.num data-done=(job.done) { (job.done) " / " (job.found) }
                                td.num { (job.failed) }
                                td.num { (job.skipped) }
                                                td.num data-bytes=(job.bytes_done) { (bytes(job.bytes_done)) }
                                td.num { @if let Some(rate) = job.throughput() { (size(rate)) "/s" } @else { "–" } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One job: its numbers, what resumes it, its evidence and log, and its failures.
pub(crate) fn job(job: &JobView, failures: &[ItemRow], failures_shown: u64) -> Markup {
    let running = job.status == ferry_journal::JobStatus::InProgress && !job.stalled;
    page(
        &format!("{} job {}", job.kind, job.id),
        running,
        html! {
            dl {
                dt { "Status" } dd { (status(job)) }
                dt { "Command" } dd { code { (job.command) } }
                dt { "Started" } dd { (when(job.started)) }
                @if let Some(ms) = job.ended_ms { dt { "Ended" } dd { (when(ms / 1000)) } }
                @if let Some(beat) = &job.heartbeat { dt { "Last heartbeat" } dd { (when(beat.at)) } }
                dt { "Progress" } dd { (progress(job)) }
                dt { "Objects" } dd { (job.done) " done, " (job.failed) " failed, " (job.skipped) " skipped, of " (job.found) " found" }
                dt { "Moved" } dd { (bytes(job.bytes_done)) " of " (bytes(job.bytes_expected)) }
                dt { "Throughput" } dd { @if let Some(rate) = job.throughput() { (size(rate)) "/s" } @else { "–" } }
                @if job.status != ferry_journal::JobStatus::Completed {
                    dt { "Resume" } dd { code #resume { "ferry jobs resume " (job.id) } }
                }
            }
            p.links {
                a href={ "/jobs/" (job.id) "/evidence.jsonl" } { "Evidence (JSON Lines)" }
                a href={ "/jobs/" (job.id) "/evidence.csv" } { "Evidence (CSV)" }
                a href={ "/jobs/" (job.id) "/log" } { "Log" }
            }
            h2 { "Failed objects" }
            @if failures.is_empty() {
                p.empty { "None." }
            } @else {
                table #failures {
                    thead { tr { th { "Source" } th { "Destination" } th.num { "Size" } th { "Error" } } }
                    tbody {
                        @for item in failures {
                            tr {
                                td { code { (item.source) } }
                                td { code { (item.destination) } }
                                                td.num { (bytes(item.size)) }
                                td { (item.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                @if job.failed > failures_shown { p { "The first " (failures_shown) " of " (job.failed) " are shown; " code { "ferry jobs show " (job.id) " --with-status Failed" } " lists them all." } }
            }
        },
    )
}

/// A page for what is not there.
pub(crate) fn not_found(what: &str) -> Markup {
    page("not found", false, html! { p.empty { (what) } })
}

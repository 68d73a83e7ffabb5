//! `tgsess check [NAME...] [--json] [--concurrency N]`: many sessions checked at once (see
//! `telegram::check`), a progress bar on a terminal, then a table (or JSON) and a summary. What
//! each check found is kept in the state folder for the TUI (`store::status`).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tokio::sync::mpsc;

use super::GlobalArgs;
use super::account::{Env, NetArgs};
use crate::store::status::{self, Finding, StatusBook};
use crate::telegram::check::{self, CheckEvent, CheckOptions, CheckResult, CheckTarget, Summary};
use crate::ui::text::{clean, fit, fit_right};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Sessions to check (names in the directory, or paths); default: every session there.
    pub names: Vec<String>,
    /// Print one JSON array: name, status, user_id, is_bot, first_name, username, phone,
    /// two_fa, other_authorizations, error, checked_at.
    #[arg(long)]
    pub json: bool,
    /// Accounts checked at the same time.
    #[arg(long, value_name = "N", default_value_t = check::DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub net: NetArgs,
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT).
const INTERRUPTED: i32 = 130;

pub fn run(args: CheckArgs, global: &GlobalArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let env = Env::new(global, &args.net).await?;
        let result = check_cmd(&env, &args).await;
        env.stop().await;
        result
    })
}

fn targets(env: &Env, names: &[String]) -> anyhow::Result<Vec<CheckTarget>> {
    if names.is_empty() {
        let listed = env.dir.list()?;
        return Ok(listed
            .into_iter()
            .map(|l| CheckTarget {
                name: l.name,
                path: l.path,
            })
            .collect());
    }
    names
        .iter()
        .map(|name| {
            let path = env.existing(name)?;
            Ok(CheckTarget {
                name: name.clone(),
                path,
            })
        })
        .collect()
}

async fn check_cmd(env: &Env, args: &CheckArgs) -> anyhow::Result<i32> {
    let targets = targets(env, &args.names)?;
    let mut options = CheckOptions::new(env.options.clone());
    options.concurrency = usize::from(args.concurrency);
    options.sandbox_dcs = env.sandbox_dcs()?;
    let total = targets.len();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = Progress::new(targets.iter().map(|t| t.name.clone()).collect());
    let run = check::check_many(targets.clone(), &options, Some(tx));
    // Listening for Ctrl-C from the start: one listener for the whole run.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(run, interrupt);
    let mut found: Vec<Option<CheckResult>> = vec![None; total];
    let interrupted = loop {
        tokio::select! {
            results = &mut run => {
                for (slot, r) in found.iter_mut().zip(results) {
                    *slot = Some(r);
                }
                break false;
            }
            Some(event) = rx.recv() => progress.on(&event, &mut found),
            _ = &mut interrupt => break true,
        }
    };
    progress.finish();
    // Findings are kept even for an interrupted run: each is true as of its time.
    let results: Vec<CheckResult> = found.into_iter().flatten().collect();
    remember(&results);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print_table(&results);
        println!("{}", Summary::of(results.iter().map(|r| &r.finding)).line());
    }
    if interrupted {
        eprintln!(
            "interrupted: {} of {total} sessions checked; the others were not touched",
            results.len()
        );
        return Ok(INTERRUPTED);
    }
    Ok(0)
}

/// Files the findings in the state folder (a failure is a warning: the check itself worked).
fn remember(results: &[CheckResult]) {
    let Some(file) = status::default_path() else {
        return;
    };
    let keyed: Vec<(PathBuf, String, Finding)> = results
        .iter()
        .filter_map(|r| {
            let key_id = r.key_id.clone()?;
            Some((r.path.clone(), key_id, r.finding.clone()))
        })
        .collect();
    if keyed.is_empty() {
        return;
    }
    if let Err(e) = StatusBook::update(&file, |book| {
        for (path, key_id, finding) in keyed {
            book.put(&path, &key_id, finding);
        }
    }) {
        eprintln!("warning: the statuses could not be saved: {e}");
    }
}

fn print_table(results: &[CheckResult]) {
    println!(
        "{}  {}  {}  {}  {}  {}  ERROR",
        fit("NAME", 20),
        fit("STATUS", 10),
        fit("ACCOUNT", 24),
        fit_right("USER ID", 12),
        fit("2FA", 3),
        fit_right("OTHERS", 6),
    );
    let dash = || "-".to_string();
    for r in results {
        let f = &r.finding;
        let account = match (&f.first_name, &f.username) {
            (Some(n), Some(u)) => format!("{n} @{u}"),
            (Some(n), None) => n.clone(),
            (None, Some(u)) => format!("@{u}"),
            (None, None) => dash(),
        };
        let two_fa = match f.two_fa {
            Some(true) => "on".into(),
            Some(false) => "off".into(),
            None => dash(),
        };
        println!(
            "{}  {}  {}  {}  {}  {}  {}",
            fit(&clean(&r.name), 20),
            fit(f.status.label(), 10),
            fit(&clean(&account), 24),
            fit_right(&f.user_id.map_or_else(dash, |u| u.to_string()), 12),
            fit(&two_fa, 3),
            fit_right(
                &f.other_authorizations.map_or_else(dash, |n| n.to_string()),
                6
            ),
            clean(f.error.as_deref().unwrap_or("")),
        );
    }
}

/// The progress bar: on a terminal only (stderr), never in a pipe or a log.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    names: Vec<String>,
}

impl Progress {
    fn new(names: Vec<String>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(names.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} checked {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self { bar, names }
    }

    fn on(&self, event: &CheckEvent, found: &mut [Option<CheckResult>]) {
        match event {
            CheckEvent::Finished { index, result } => {
                if let Some(slot) = found.get_mut(*index) {
                    *slot = Some(CheckResult::clone(result));
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            CheckEvent::FloodWait { index, seconds } => {
                if let Some(bar) = &self.bar {
                    let name = self.names.get(*index).map_or("one account", |n| n.as_str());
                    bar.set_message(format!("({name}: Telegram asks to wait {seconds} s)"));
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

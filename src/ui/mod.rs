//! The full-screen TUI: one state, messages, one `update`, effects run as tasks, pure views.
//! See `docs/tui.md`.

pub mod account;
pub mod backend;
pub mod config;
pub mod effects;
pub mod fleet;
pub mod flows;
pub mod keymap;
pub mod list_index;
pub mod loader;
pub mod logging;
pub mod msg;
pub mod state;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::store::dir::SessionDir;
use crate::telegram::AccountService;
use backend::Backend;
use config::Settings;
use effects::{Effect, Runner};
use keymap::Keymap;
use msg::Msg;
use state::{AppState, Mode, Notice};
use theme::{ColorDepth, Theme};

pub fn run(global: &Settings) -> anyhow::Result<i32> {
    let log_path = logging::init(global.log_level.as_deref());
    let (cfg, mut notices) = config::load();
    let cfg_dir = config::config_dir();

    let env = |k: &str| std::env::var(k).ok();
    let depth = ColorDepth::detect(cfg.color.as_deref(), &env);
    if cfg.color.as_deref().is_some_and(|c| c != "auto") {
        crossterm::style::force_color_output(depth != ColorDepth::Never);
    }
    let themes_dir = cfg_dir.as_ref().map(|d| d.join("themes"));
    let (theme, theme_notices) = theme::load(
        global.theme.as_deref().or(cfg.theme.as_deref()),
        themes_dir.as_deref(),
        depth,
    );
    notices.extend(theme_notices);

    let mut keymap = Keymap::default();
    if let Some(text) = cfg_dir
        .as_ref()
        .and_then(|d| std::fs::read_to_string(d.join("keys.toml")).ok())
    {
        notices.extend(keymap.apply_overrides(&text));
    }
    for n in &notices {
        tracing::warn!("{n}");
    }
    if log_path.is_none() {
        tracing::warn!("no state folder: logging is off");
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = rt.block_on(async {
        let backend = Backend::connect(global).await?;
        tracing::info!(dir = %backend.dir.root().display(), sandbox = backend.sandbox, "tgsess TUI starting");
        let mode = Mode {
            dir_label: backend.dir.root().display().to_string(),
            demo_accounts: backend.demo_accounts.clone(),
            sandbox: backend.sandbox,
            api_missing: backend.api_missing.clone(),
            banner: backend.notice.clone(),
        };
        let mut st = AppState::new(keymap, mode);
        st.fleet.unix_start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if let Some(n) = notices.first() {
            st.notice = Some(Notice::warn(n.clone()));
        }
        let result = event_loop(st, theme, Arc::clone(&backend.service), backend.dir.clone()).await;
        backend.stop().await;
        result
    })?;
    // Dropping the runtime waits for blocking store writes, so atomic writes finish.
    drop(rt);
    Ok(code)
}

async fn event_loop(
    mut st: AppState,
    theme: Theme,
    service: Arc<dyn AccountService>,
    dir: SessionDir,
) -> anyhow::Result<i32> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(service, dir, tx);
    runner.set_source(loader::default_source());
    runner.remember_statuses_in(crate::store::status::default_path());
    let lost = Arc::new(AtomicBool::new(false));
    let (mut term, _guard) = terminal::enter_watched(Arc::clone(&lost))?;
    let start = Instant::now();
    let mut events = EventStream::new();
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    // A hung-up terminal ends the app even when SIGHUP never comes (ignored, or blocked).
    let (hung_tx, mut hung_up) = tokio::sync::oneshot::channel::<()>();
    terminal::watch_hangup(move || {
        let _ = hung_tx.send(());
    });

    let size = term.size()?;
    let mut pending = vec![Msg::Resize(size.width, size.height)];
    for e in update::init(&mut st) {
        runner.run(e);
    }
    let mut exit_code = 0;
    loop {
        // Drain, then draw once.
        let now = start.elapsed().as_millis() as u64;
        let mut batch = vec![Msg::Tick(now)];
        batch.append(&mut pending);
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        for m in batch {
            for e in update::update(&mut st, m) {
                match runner.run(e) {
                    Some(Effect::Clipboard(secret)) => {
                        if let Err(e) = terminal::copy_to_clipboard(secret.reveal()) {
                            st.notice = Some(Notice::error(format!("clipboard: {e}")));
                        }
                    }
                    Some(Effect::Quit) => st.quit = true,
                    _ => {}
                }
            }
        }
        if st.quit {
            break;
        }
        term.draw(|f| view::render(&st, &theme, f))?;
        if lost.load(Ordering::SeqCst) {
            tracing::info!("the terminal is gone (output failed); stopping");
            exit_code = 129;
            break;
        }

        // A timer only while something counts down or spins; no fixed frame rate.
        let animating = st.animating();
        let timer = async {
            if animating {
                tokio::time::sleep(Duration::from_millis(100)).await
            } else {
                std::future::pending::<()>().await
            }
        };
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => pending.push(Msg::Key(k)),
                Some(Ok(Event::Paste(p))) => pending.push(Msg::Paste(p)),
                Some(Ok(Event::Resize(w, h))) => {
                    term.autoresize()?;
                    pending.push(Msg::Resize(w, h));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    exit_code = if lost.load(Ordering::SeqCst) { 129 } else { 1 };
                    break;
                }
                None => {
                    tracing::info!("terminal input ended; stopping");
                    exit_code = 129;
                    break;
                }
            },
            _ = &mut hung_up => {
                tracing::info!("the terminal hung up; stopping");
                exit_code = 129;
                break;
            }
            Some(m) = rx.recv() => pending.push(m),
            _ = timer => {}
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: the terminal went away; stopping");
                exit_code = 129;
                break;
            }
            _ = terminate.recv() => {
                tracing::info!("SIGTERM: stopping");
                exit_code = 143;
                break;
            }
        }
    }
    runner.cancel_all();
    tracing::info!("tgsess TUI stopped");
    Ok(exit_code)
}

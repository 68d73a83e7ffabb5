//! The detail pane: every field `inspect` shows (the key id only), plus what checks found:
//! status, 2FA state and other authorizations.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use serde_json::{Value, json};

use crate::store::listing::Info;
use crate::ui::flows::ViewCx;
use crate::ui::state::{AppState, Focus};
use crate::ui::text;
use crate::ui::theme::Role;

use crate::store::inspect::TEXT_FIELDS as FIELDS;

/// One of `inspect`'s fields, from what the row keeps (as `inspect::to_json` gives it).
fn field(info: &Info, k: &str) -> Value {
    match k {
        "format" => json!(info.format.name()),
        "backend" => json!(info.format.backend().name()),
        "dc_id" => json!(info.dc_id),
        "server_address" => json!(info.server_address()),
        "port" => json!(info.port()),
        "user_id" => json!(info.user_id),
        "is_bot" => json!(info.is_bot),
        "api_id" => json!(info.api_id),
        "test_mode" => json!(info.test_mode),
        "first_name" => json!(info.first_name),
        "last_name" => json!(info.last_name),
        "username" => json!(info.username),
        "phone" => json!(info.phone),
        "auth_key_id_hex" => json!(info.auth_key_id_hex()),
        _ => Value::Null,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => text::clean(s),
        other => other.to_string(),
    }
}

/// The lines of the pane for the selected row (also used by tests).
pub fn lines(st: &AppState, v: &ViewCx) -> Vec<Line<'static>> {
    let Some(row) = st.selected_row() else {
        return vec![Line::styled(
            "Nothing selected.",
            v.theme.style(Role::Muted),
        )];
    };
    let kv = |k: &str, val: String, role: Role| {
        Line::from(vec![
            Span::styled(text::fit(k, 16), v.theme.style(Role::Muted)),
            Span::styled(val, v.theme.style(role)),
        ])
    };
    let mut out = vec![
        kv("name", text::clean(&row.name), Role::Title),
        kv(
            "path",
            row.path
                .as_ref()
                .map(|p| text::clean(&p.display().to_string()))
                .unwrap_or_else(|| "(memory: lost on quit)".into()),
            Role::Base,
        ),
    ];
    if let Some(warning) = &row.exposed {
        out.push(Line::styled(
            format!("warning: {}", text::clean(warning)),
            v.theme.style(Role::Error),
        ));
    }
    out.push(kv(
        "status",
        crate::ui::fleet::statuses::status_line(st, row),
        Role::Base,
    ));
    if let Some(found) = crate::ui::fleet::statuses::last_check(st, row) {
        out.push(kv("last check", text::clean(&found), Role::Base));
    }
    if let Some(result) = st.fleet.result_of(&row.key()) {
        let role = if result.starts_with("failed") {
            Role::Error
        } else {
            Role::Base
        };
        out.push(kv("last action", text::clean(result), role));
    }
    let sharers = st.key_sharers(row);
    if !sharers.is_empty() {
        // A few names say it; hundreds would only fill the pane (and cost every frame).
        const NAMED: usize = 5;
        let mut names: Vec<String> = sharers
            .iter()
            .take(NAMED)
            .map(|n| format!("'{}'", text::clean(n)))
            .collect();
        if sharers.len() > NAMED {
            names.push(format!("{} more", sharers.len() - NAMED));
        }
        out.push(kv(
            "shared key",
            format!(
                "also in {}: one authorization, used from both",
                names.join(", ")
            ),
            Role::Warn,
        ));
    }
    if let Some(err) = row.error.as_ref().filter(|_| row.locked) {
        out.push(Line::styled(text::clean(err), v.theme.style(Role::Warn)));
        return out;
    }
    if let Some(err) = &row.error {
        out.push(Line::styled(
            format!("error: {}", text::clean(err)),
            v.theme.style(Role::Error),
        ));
        return out;
    }
    let Some(info) = &row.info else {
        return out;
    };
    for k in FIELDS {
        out.push(kv(k, show(&field(info, k)), Role::Base));
    }
    for d in &info.dcs {
        let addr = [d.ipv4.map(|a| a.to_string()), d.ipv6.map(|a| a.to_string())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        out.push(kv(
            &format!("dc {}", d.id),
            format!(
                "{} port {} key {}",
                if addr.is_empty() { "-".into() } else { addr },
                show(&json!(d.port)),
                d.key_id.map(hex::encode).as_deref().unwrap_or("-")
            ),
            Role::Muted,
        ));
    }
    let known = st.known.get(&row.key());
    if let Some(me) = known.and_then(|k| k.me.as_ref()) {
        out.push(kv("account (live)", text::clean(&me.display()), Role::Ok));
    }
    let two_fa = match known.and_then(|k| k.password.as_ref()) {
        Some(p) if p.has_password => format!(
            "on{}{}",
            p.hint
                .as_deref()
                .map(|h| format!(", hint \"{}\"", text::clean(h)))
                .unwrap_or_default(),
            if p.has_recovery_email {
                ", recovery email set"
            } else {
                ""
            }
        ),
        Some(_) => "off".into(),
        None => "unknown (p to check)".into(),
    };
    out.push(kv("2FA", two_fa, Role::Base));
    match known.and_then(|k| k.authorizations.as_ref()) {
        Some(list) => {
            let others = list.iter().filter(|a| !a.current).count();
            out.push(kv(
                "authorizations",
                format!("{others} other(s)"),
                Role::Base,
            ));
            for a in list.iter().filter(|a| !a.current) {
                out.push(Line::styled(
                    format!(
                        "  {} · {} · {}",
                        text::clean(&a.device_model),
                        text::clean(&format!("{} {}", a.app_name, a.app_version)),
                        text::utc_date(i64::from(a.date_active))
                    ),
                    v.theme.style(Role::Muted),
                ));
            }
        }
        None => out.push(kv(
            "authorizations",
            "unknown (a to list)".into(),
            Role::Base,
        )),
    }
    out
}

pub fn render(st: &AppState, v: &ViewCx, f: &mut Frame, area: Rect) {
    let border = if st.focus == Focus::Detail && st.modals.is_empty() {
        Role::BorderFocused
    } else {
        Role::Border
    };
    let block = Block::bordered()
        .border_style(v.theme.style(border))
        // Without colours, focus shows as a thick border.
        .border_type(if v.theme.no_color && border == Role::BorderFocused {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Plain
        })
        .title(Span::styled(" Details ", v.theme.style(Role::Title)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(1),
        inner.height,
    );
    let (rows, _) = crate::ui::view::wrap::wrap(lines(st, v), inner.width, None);
    let max = (rows.len() as u16).saturating_sub(inner.height);
    st.detail_scroll_max.set(max);
    f.render_widget(
        Paragraph::new(rows).scroll((st.detail_scroll.min(max), 0)),
        inner,
    );
}

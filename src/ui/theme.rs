//! Themes: TOML files naming a style per role. Built-in themes are compiled in; a file of the
//! same name in the user's `themes/` folder overrides one. A role a theme leaves out comes from
//! `default`; a bad theme falls back to `default` with a notice and never stops the app.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// What a style is used for. Every theme resolves every role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Base,
    Muted,
    Border,
    BorderFocused,
    Title,
    Selected,
    Ok,
    Warn,
    Error,
    KeyHint,
    Input,
    Qr,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Base,
        Role::Muted,
        Role::Border,
        Role::BorderFocused,
        Role::Title,
        Role::Selected,
        Role::Ok,
        Role::Warn,
        Role::Error,
        Role::KeyHint,
        Role::Input,
        Role::Qr,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Base => "base",
            Role::Muted => "muted",
            Role::Border => "border",
            Role::BorderFocused => "border_focused",
            Role::Title => "title",
            Role::Selected => "selected",
            Role::Ok => "ok",
            Role::Warn => "warn",
            Role::Error => "error",
            Role::KeyHint => "key_hint",
            Role::Input => "input",
            Role::Qr => "qr",
        }
    }

    fn index(self) -> usize {
        Role::ALL.iter().position(|r| *r == self).expect("listed")
    }
}

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    /// `NO_COLOR` or `--color=never`: every colour becomes the terminal default.
    Never,
}

impl ColorDepth {
    pub fn parse(s: &str) -> Option<ColorDepth> {
        match s {
            "truecolor" | "24bit" => Some(ColorDepth::TrueColor),
            "256" => Some(ColorDepth::Ansi256),
            "16" => Some(ColorDepth::Ansi16),
            "never" | "none" => Some(ColorDepth::Never),
            _ => None,
        }
    }

    /// From an explicit choice (`auto` or missing means detect), then `NO_COLOR`, then
    /// `COLORTERM`/`TERM` (SSH usually forwards only `TERM`).
    pub fn detect(explicit: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> ColorDepth {
        if let Some(d) = explicit.and_then(ColorDepth::parse) {
            return d;
        }
        if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorDepth::Never;
        }
        let colorterm = env("COLORTERM").unwrap_or_default();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return ColorDepth::TrueColor;
        }
        let term = env("TERM").unwrap_or_default();
        if term == "dumb" {
            ColorDepth::Never
        } else if term.contains("256color") {
            ColorDepth::Ansi256
        } else {
            ColorDepth::Ansi16
        }
    }
}

#[derive(Clone, Debug)]
pub struct Theme {
    pub name: String,
    styles: [Style; 12],
    /// True when colours were all mapped to the terminal default.
    pub no_color: bool,
}

impl Theme {
    pub fn style(&self, role: Role) -> Style {
        self.styles[role.index()]
    }

    /// The built-in default theme at a colour depth.
    pub fn default_theme(depth: ColorDepth) -> Theme {
        build("default", DEFAULT_TOML, None, depth).expect("the built-in default theme is valid")
    }
}

/// The themes compiled into the binary.
pub const BUILTIN: [(&str, &str); 4] = [
    ("default", DEFAULT_TOML),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];
const DEFAULT_TOML: &str = include_str!("../../themes/default.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    palette: BTreeMap<String, String>,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    underlined: bool,
}

/// Loads the theme `choice` (a name or a path to a TOML file). Returns the theme and notices
/// for the user; on any problem the notice says why and the theme is `default`.
pub fn load(
    choice: Option<&str>,
    user_dir: Option<&Path>,
    depth: ColorDepth,
) -> (Theme, Vec<String>) {
    let name = choice.unwrap_or("default");
    let text = match find_text(name, user_dir) {
        Ok(t) => t,
        Err(why) => {
            return (
                Theme::default_theme(depth),
                vec![format!("theme {name}: {why}; using default")],
            );
        }
    };
    let short = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    match build(short, &text, Some(DEFAULT_TOML), depth) {
        Ok(t) => (t, Vec::new()),
        Err(why) => (
            Theme::default_theme(depth),
            vec![format!("theme {name}: {why}; using default")],
        ),
    }
}

fn find_text(name: &str, user_dir: Option<&Path>) -> Result<String, String> {
    let looks_like_path = name.contains('/') || name.ends_with(".toml");
    if looks_like_path {
        return std::fs::read_to_string(name).map_err(|e| format!("cannot read it ({e})"));
    }
    if let Some(dir) = user_dir {
        let p = dir.join(format!("{name}.toml"));
        if p.is_file() {
            return std::fs::read_to_string(&p).map_err(|e| format!("cannot read it ({e})"));
        }
    }
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| {
            let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
            format!("no such theme (built in: {})", names.join(", "))
        })
}

/// Parses `text`; roles it leaves out come from `fallback` (itself complete).
fn build(
    name: &str,
    text: &str,
    fallback: Option<&str>,
    depth: ColorDepth,
) -> Result<Theme, String> {
    let file: ThemeFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let base = match fallback {
        Some(fb) => Some(build("default", fb, None, depth)?),
        None => None,
    };
    let mut styles = [Style::default(); 12];
    for key in file.styles.keys() {
        if !Role::ALL.iter().any(|r| r.key() == key) {
            return Err(format!("unknown role '{key}'"));
        }
    }
    for role in Role::ALL {
        styles[role.index()] = match file.styles.get(role.key()) {
            Some(spec) => resolve_style(spec, &file.palette, depth)?,
            None => match &base {
                Some(b) => b.style(role),
                None => return Err(format!("role '{}' is missing", role.key())),
            },
        };
    }
    let no_color = depth == ColorDepth::Never;
    if no_color {
        // Without colour the selection must still stand out.
        let sel = &mut styles[Role::Selected.index()];
        *sel = sel.add_modifier(Modifier::REVERSED);
    }
    Ok(Theme {
        name: name.to_string(),
        styles,
        no_color,
    })
}

fn resolve_style(
    spec: &StyleSpec,
    palette: &BTreeMap<String, String>,
    depth: ColorDepth,
) -> Result<Style, String> {
    let mut style = Style::default();
    if let Some(fg) = &spec.fg {
        style = style.fg(downsample(resolve_color(fg, palette)?, depth));
    }
    if let Some(bg) = &spec.bg {
        style = style.bg(downsample(resolve_color(bg, palette)?, depth));
    }
    for (on, m) in [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.reversed, Modifier::REVERSED),
        (spec.underlined, Modifier::UNDERLINED),
    ] {
        if on {
            style = style.add_modifier(m);
        }
    }
    Ok(style)
}

fn resolve_color(text: &str, palette: &BTreeMap<String, String>) -> Result<Color, String> {
    if let Some(p) = palette.get(text) {
        return parse_color(p).ok_or_else(|| format!("bad colour '{p}' in palette entry '{text}'"));
    }
    parse_color(text).ok_or_else(|| format!("unknown colour '{text}'"))
}

/// `"red"`, `"bright-blue"`, `"reset"`, `"#89b4fa"` or `"244"`.
pub fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    if let Ok(n) = s.parse::<u8>() {
        return Some(Color::Indexed(n));
    }
    let c = match s.to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "dark-gray" | "dark-grey" | "bright-black" => Color::DarkGray,
        "bright-red" | "light-red" => Color::LightRed,
        "bright-green" | "light-green" => Color::LightGreen,
        "bright-yellow" | "light-yellow" => Color::LightYellow,
        "bright-blue" | "light-blue" => Color::LightBlue,
        "bright-magenta" | "light-magenta" => Color::LightMagenta,
        "bright-cyan" | "light-cyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    };
    Some(c)
}

/// RGB values of the 16 ANSI colours (xterm defaults), in index order.
const ANSI16: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

const ANSI16_COLORS: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// Maps a colour to what the terminal can show, once, at theme load.
pub fn downsample(c: Color, depth: ColorDepth) -> Color {
    match (depth, c) {
        (ColorDepth::Never, _) => Color::Reset,
        (ColorDepth::TrueColor, _) => c,
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(rgb_to_256(r, g, b)),
        (ColorDepth::Ansi256, _) => c,
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => nearest16(r, g, b),
        (ColorDepth::Ansi16, Color::Indexed(n)) => {
            let (r, g, b) = indexed_rgb(n);
            nearest16(r, g, b)
        }
        (ColorDepth::Ansi16, _) => c,
    }
}

fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| -> u8 {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            (v - 35) / 40
        }
    };
    let cube = 16 + 36 * level(r) + 6 * level(g) + level(b);
    let (cr, cg, cb) = indexed_rgb(cube);
    let avg = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let gray_idx = if avg > 238 {
        23
    } else {
        avg.saturating_sub(3) / 10
    } as u8;
    let gray = 232 + gray_idx.min(23);
    let (gr, gg, gb) = indexed_rgb(gray);
    if dist((r, g, b), (gr, gg, gb)) < dist((r, g, b), (cr, cg, cb)) {
        gray
    } else {
        cube
    }
}

fn indexed_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize],
        16..=231 => {
            let i = n - 16;
            let step = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (step(i / 36), step((i / 6) % 6), step(i % 6))
        }
        _ => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2) as u32;
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

fn nearest16(r: u8, g: u8, b: u8) -> Color {
    let best = (0..16)
        .min_by_key(|i| dist((r, g, b), ANSI16[*i]))
        .expect("sixteen candidates");
    ANSI16_COLORS[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_ansi16(c: Option<Color>) -> bool {
        match c {
            None | Some(Color::Reset) => true,
            Some(c) => ANSI16_COLORS.contains(&c),
        }
    }

    #[test]
    fn every_builtin_theme_parses_and_sets_every_role() {
        for (name, text) in BUILTIN {
            let file: ThemeFile = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            for role in Role::ALL {
                assert!(
                    file.styles.contains_key(role.key()),
                    "{name} leaves out {}",
                    role.key()
                );
            }
            let (theme, notices) = load(Some(name), None, ColorDepth::TrueColor);
            assert!(notices.is_empty(), "{name}: {notices:?}");
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn default_uses_only_the_sixteen_ansi_colours() {
        let t = Theme::default_theme(ColorDepth::TrueColor);
        for role in Role::ALL {
            let s = t.style(role);
            assert!(is_ansi16(s.fg) && is_ansi16(s.bg), "{role:?}: {s:?}");
        }
    }

    #[test]
    fn a_missing_role_falls_back_to_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "[styles]\nerror = { fg = \"#ff0000\", bold = true }\n",
        )
        .unwrap();
        let (t, notices) = load(Some("mine"), Some(dir.path()), ColorDepth::TrueColor);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(t.style(Role::Error).fg, Some(Color::Rgb(255, 0, 0)));
        let default = Theme::default_theme(ColorDepth::TrueColor);
        assert_eq!(t.style(Role::Selected), default.style(Role::Selected));
    }

    #[test]
    fn a_bad_theme_gives_a_notice_and_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[styles]\nsparkle = { fg = \"red\" }\n").unwrap();
        let (t, notices) = load(Some(bad.to_str().unwrap()), None, ColorDepth::Ansi16);
        assert_eq!(t.name, "default");
        assert!(notices[0].contains("unknown role 'sparkle'"), "{notices:?}");
        let (_, notices) = load(Some("nope"), None, ColorDepth::Ansi16);
        assert!(notices[0].contains("no such theme"), "{notices:?}");
        std::fs::write(&bad, "[styles]\nbase = { fg = \"plaid\" }\n").unwrap();
        let (_, notices) = load(Some(bad.to_str().unwrap()), None, ColorDepth::Ansi16);
        assert!(notices[0].contains("unknown colour 'plaid'"), "{notices:?}");
    }

    #[test]
    fn no_color_resets_colours_and_keeps_the_selection_reversed() {
        for (name, _) in BUILTIN {
            let (t, _) = load(Some(name), None, ColorDepth::Never);
            for role in Role::ALL {
                let s = t.style(role);
                assert!(matches!(s.fg, None | Some(Color::Reset)), "{name} {role:?}");
                assert!(matches!(s.bg, None | Some(Color::Reset)), "{name} {role:?}");
            }
            assert!(
                t.style(Role::Selected)
                    .add_modifier
                    .contains(Modifier::REVERSED)
            );
        }
    }

    #[test]
    fn colours_are_downsampled_once() {
        assert_eq!(
            downsample(Color::Rgb(0x89, 0xb4, 0xfa), ColorDepth::Ansi16),
            Color::LightBlue
        );
        assert_eq!(
            downsample(Color::Rgb(255, 0, 0), ColorDepth::Ansi256),
            Color::Indexed(196)
        );
        assert_eq!(
            downsample(Color::Rgb(128, 128, 128), ColorDepth::Ansi256),
            Color::Indexed(244)
        );
        assert_eq!(
            downsample(Color::Indexed(196), ColorDepth::Ansi16),
            Color::LightRed
        );
        assert_eq!(downsample(Color::Red, ColorDepth::Never), Color::Reset);
    }

    #[test]
    fn depth_detection_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let no_color = env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]);
        assert_eq!(ColorDepth::detect(None, &no_color), ColorDepth::Never);
        assert_eq!(
            ColorDepth::detect(Some("256"), &no_color),
            ColorDepth::Ansi256
        );
        let ssh = env(&[("TERM", "xterm-256color")]);
        assert_eq!(ColorDepth::detect(Some("auto"), &ssh), ColorDepth::Ansi256);
        let plain = env(&[("TERM", "xterm")]);
        assert_eq!(ColorDepth::detect(None, &plain), ColorDepth::Ansi16);
    }
}

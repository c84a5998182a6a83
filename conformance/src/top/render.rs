//! Draw a [`Model`] with ratatui: header, scoreboard grid, timeline chart, process tree, log
//! and event feed, footer; the help screen on top when asked.
//!
//! ```text
//! ┌ header: what is watched, clock, counts, what top holds ─────────────────────┐
//! ├ Scoreboard: one row per process slot (pid, generation, letters) ────────────┤
//! ├ Timeline: processes, busy, idle, held over the last minutes; events marked ─┤
//! ├ Processes (/proc) ────────────────┬ Log and events (AH codes explained) ────┤
//! └ footer: the last action, the keys ─────────────────────────────────────────┘
//! ```
//! It fits 80×24; a larger terminal gives the scoreboard and the panes more rows. Colours are
//! optional ([`Palette`], `NO_COLOR`): without them the chart's lines differ by marker.

use super::model::{Kind, Model};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};

use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Colours on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub color: bool,
}

impl Palette {
    /// Colours unless `NO_COLOR` is set to a non-empty value (no-color.org).
    pub fn from_env() -> Palette {
        Palette {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub(super) fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The style of one scoreboard letter (mod_status's key).
    fn letter(self, l: char) -> Style {
        match l {
            '_' => self.fg(Color::Green),
            'S' => self.fg(Color::Blue),
            'R' => self.fg(Color::Yellow),
            'W' => self.fg(Color::Red),
            'K' => self.fg(Color::Cyan),
            'L' | 'D' | 'C' | 'I' => self.fg(Color::Magenta),
            'G' => self.fg(Color::LightMagenta).add_modifier(Modifier::BOLD),
            _ => self.fg(Color::DarkGray),
        }
    }

    pub(super) fn kind(self, k: Kind) -> Style {
        match k {
            Kind::Fork => self.fg(Color::Green),
            Kind::Reap => self.fg(Color::Blue),
            Kind::MaxWorkers => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Kind::Graceful | Kind::Restart | Kind::Stop => self.fg(Color::Magenta),
            Kind::Log | Kind::Client => Style::new(),
            Kind::Action => self.fg(Color::Yellow),
        }
    }
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame, m: &Model, p: Palette) {
    let area = f.area();
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let rest = body.height;
    let grid_rows = scoreboard_lines(m, body.width.saturating_sub(2) as usize, usize::MAX).len();
    let sb_h = (grid_rows as u16 + 2).clamp(4, (rest / 4).max(4));
    let bottom_h = (rest / 3).clamp(6, 14);
    let [sb, chart, bottom] = Layout::vertical([
        Constraint::Length(sb_h),
        Constraint::Min(6),
        Constraint::Length(bottom_h),
    ])
    .areas(body);
    let [procs, feed] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    draw_header(f, header, m, p);
    draw_scoreboard(f, sb, m, p);
    chart::draw_chart(f, chart, m, p);
    draw_procs(f, procs, m);
    draw_feed(f, feed, m, p);
    draw_footer(f, footer, m, p);
    if m.show_help {
        draw_help(f, area);
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x}"))
}

fn draw_header(f: &mut Frame, area: Rect, m: &Model, p: Palette) {
    let r = m.latest();
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut l1 = vec![Span::styled(m.title.clone(), bold)];
    if let Some(pid) = m.pid {
        l1.push(Span::raw(format!("  pid {pid}")));
    }
    if let Some(g) = m.generation {
        l1.push(Span::raw(format!("  gen {g}")));
    }
    l1.push(Span::raw(format!("  t={:.1}s", m.now())));
    let mut l2 = vec![
        Span::styled(format!("procs {}", num(r.and_then(|r| r.processes))), bold),
        Span::raw(format!(
            "  threads {}  busy {}  idle {}",
            num(r.and_then(|r| r.os_threads)),
            num(r.and_then(|r| r.busy)),
            num(r.and_then(|r| r.idle)),
        )),
    ];
    if let Some(g) = r.and_then(|r| r.graceful).filter(|&g| g > 0.0) {
        l2.push(Span::raw(format!("  grace {g}")));
    }
    if let Some(k) = r.and_then(|r| r.conns_keepalive) {
        l2.push(Span::raw(format!("  ka-conns {k}")));
    }
    if r.is_some_and(|r| !r.ok) {
        l2.push(Span::styled(
            "  status page did not answer",
            p.fg(Color::Red),
        ));
    }
    l2.push(Span::styled(
        format!("  held R {} K {}", m.held.partial, m.held.keepalive),
        p.fg(Color::Yellow),
    ));
    f.render_widget(Paragraph::new(vec![Line::from(l1), Line::from(l2)]), area);
}

/// One piece of a scoreboard line: text, the letter it shows (for its colour), and whether
/// that worker belongs to a child of an older generation (drawn reversed).
type Piece = (String, Option<char>, bool);

/// The scoreboard as text lines for an inner width, at most `max` lines: one row per process
/// slot (pid, generation, letters) when they fit, else Apache's letter rows for prefork.
fn scoreboard_lines(m: &Model, width: usize, max: usize) -> Vec<Vec<Piece>> {
    let grid = m.grid();
    let mut lines: Vec<Vec<Piece>> = Vec::new();
    // Prefork's slots are one letter each: a row per slot only pays when it shows the pid.
    let known = !m.slots.is_empty();
    let one_row_each = m.tpc > 1 || (known && grid.len() <= max);
    if one_row_each {
        for g in &grid {
            let pid = g.pid.map_or_else(|| "-".into(), |p| p.to_string());
            let generation = g.generation.map_or_else(|| "-".into(), |x| x.to_string());
            let old = if g.old_generation { "old" } else { "" };
            let head = if known {
                format!("{:>3} {pid:>7} g{generation:<2}{old:<3} ", g.slot)
            } else {
                format!("{:>3}  ", g.slot)
            };
            let mut line = vec![(head, None, false)];
            line.extend(
                g.letters
                    .chars()
                    .map(|c| (c.to_string(), Some(c), g.old_generation)),
            );
            lines.push(line);
        }
    } else {
        // Too many prefork children for a row each: Apache's own layout, letters in rows.
        let letters: Vec<char> = m
            .last_scoreboard()
            .map_or(Vec::new(), |r| r.scoreboard.chars().collect());
        let old = |slot: usize| grid.iter().any(|g| g.slot == slot && g.old_generation);
        let per = width.saturating_sub(5).clamp(8, 64);
        let used = letters.iter().rposition(|&c| c != '.').map_or(0, |i| i + 1);
        for (i, chunk) in letters[..used].chunks(per).enumerate() {
            let mut line = vec![(format!("{:>3}  ", i * per), None, false)];
            line.extend(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| (c.to_string(), Some(c), old(i * per + j))),
            );
            lines.push(line);
        }
    }
    if lines.len() > max {
        let more = lines.len() - (max - 1);
        lines.truncate(max - 1);
        lines.push(vec![(format!("… {more} more process slots"), None, false)]);
    }
    lines
}

fn draw_scoreboard(f: &mut Frame, area: Rect, m: &Model, p: Palette) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> =
        scoreboard_lines(m, area.width.saturating_sub(2) as usize, inner_h.max(1))
            .into_iter()
            .map(|l| {
                Line::from(
                    l.into_iter()
                        .map(|(s, c, old)| match c {
                            Some(c) if old => {
                                Span::styled(s, p.letter(c).add_modifier(Modifier::REVERSED))
                            }
                            Some(c) => Span::styled(s, p.letter(c)),
                            None => Span::raw(s),
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
    let title = if m.tpc > 1 {
        " Scoreboard: slot pid gen | _ idle R read W write K ka G finishing . open "
    } else {
        " Scoreboard: _ idle R read W write K keep-alive G finishing . open "
    };
    let mut block = Block::bordered().title(title);
    if let Some(r) = m.last_scoreboard().filter(|r| r.t < m.now()) {
        block = block.title_bottom(format!(
            " as of t={:.1}s (the status page did not answer since) ",
            r.t
        ));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_procs(f: &mut Frame, area: Rect, m: &Model) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let mut lines = vec![Line::styled(
        "    PID slot gen thr RSS/M PSS/M  CPU%",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    let mb = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
    let rows: Vec<String> = m
        .procs
        .iter()
        .map(|r| {
            let (slot, generation) = if r.parent {
                ("ctl".to_string(), "-".to_string())
            } else {
                match m.slot_of(r.pid) {
                    Some(s) => (s.slot.to_string(), s.generation.to_string()),
                    None => ("-".into(), "-".into()),
                }
            };
            format!(
                "{:>7} {slot:>4} {generation:>3} {:>3} {:>5} {:>5} {:>5}",
                r.pid,
                r.threads,
                mb(r.rss_kb),
                r.pss_kb.map_or_else(|| "-".into(), mb),
                r.cpu_percent
                    .map_or_else(|| "-".into(), |c| format!("{c:.1}"))
            )
        })
        .collect();
    let room = inner_h.saturating_sub(1);
    if rows.is_empty() {
        lines.push(Line::raw("  (no pid: /proc not read)"));
    } else if rows.len() > room {
        let shown = room.saturating_sub(1);
        lines.extend(rows[..shown].iter().map(|s| Line::raw(s.clone())));
        lines.push(Line::raw(format!(
            "  … {} more children",
            rows.len() - shown
        )));
    } else {
        lines.extend(rows.into_iter().map(Line::raw));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Processes (/proc) ")),
        area,
    );
}

fn draw_feed(f: &mut Frame, area: Rect, m: &Model, p: Palette) {
    let inner_h = area.height.saturating_sub(2) as usize;
    let room = inner_h.saturating_sub(usize::from(m.last_code.is_some()));
    let skip = m.feed.len().saturating_sub(room);
    let mut lines: Vec<Line> = m
        .feed
        .iter()
        .skip(skip)
        .map(|e| {
            let mut spans = vec![
                Span::styled(format!("{:>6.1} ", e.t), p.fg(Color::DarkGray)),
                Span::styled(format!("{:<5} ", e.kind.tag()), p.kind(e.kind)),
            ];
            match super::codes::code_in(&e.text) {
                Some(code) => {
                    let (a, b) = e.text.split_at(e.text.find(code).unwrap_or(0));
                    spans.push(Span::raw(a.to_string()));
                    spans.push(Span::styled(
                        code.to_string(),
                        p.fg(Color::Red).add_modifier(Modifier::BOLD),
                    ));
                    spans.push(Span::raw(b[code.len()..].to_string()));
                }
                None => spans.push(Span::raw(e.text.clone())),
            }
            Line::from(spans)
        })
        .collect();
    let mut block = Block::bordered().title(" Log and events ");
    if let Some(x) = m.last_code {
        lines.push(Line::from(vec![
            Span::styled(
                format!("↳ {} ", x.code),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(x.line),
        ]));
        block = block.title_bottom(format!(" book: {} ", x.chapter));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_footer(f: &mut Frame, area: Rect, m: &Model, p: Palette) {
    let keys = " ? help  q quit";
    let clock = format!(" {} ", m.clock);
    let w = (area.width as usize).saturating_sub(keys.len() + clock.chars().count());
    let msg: String = m.message.chars().take(w).collect();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{msg:<w$}"), p.fg(Color::Yellow)),
            Span::styled(clock, p.fg(Color::DarkGray)),
            Span::styled(keys, Style::new().add_modifier(Modifier::REVERSED)),
        ])),
        area,
    );
}

/// The help screen's text (also what `mpm-lab top --help` refers to).
pub const HELP: &str = "\
mpm-lab top: watch the pool move, push it from the keyboard

 R / r   hold 10 more partial requests (a worker in R each) / release 10
 K / k   hold 100 more idle keep-alive connections / release 100
 W       10 CGI sleeps (/cgi-bin/sleep.cgi?60: a worker in W each)
 b       a burst of N complete requests (--burst, 200 by default)
 g       graceful restart (SIGUSR1)     h  restart (SIGHUP)
 s       graceful stop (SIGWINCH)
 space   pause / resume (replay, simulator)    n  step 1 s
 + / -   faster / slower (replay, simulator)
 ?       this help                      q, Ctrl-C  quit
Timeline row `ev`: + fork  - reap  ! MaxRequestWorkers  G graceful
                   H restart  S stop  * a key
Quitting releases every connection, stops a server top started
and writes timeline.csv and summary.txt (--out) for `compare`.";

fn draw_help(f: &mut Frame, area: Rect) {
    let w =
        (HELP.lines().map(|l| l.chars().count()).max().unwrap_or(40) as u16 + 4).min(area.width);
    let h = (HELP.lines().count() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(HELP).block(Block::bordered().title(" help ")),
        r,
    );
}

/// The screen a model draws at `width`×`height`, as plain text (no colours), lines trimmed:
/// what the snapshot tests keep and `--screenshot` writes.
pub fn to_text(m: &Model, p: Palette, width: u16, height: u16) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let Ok(mut term) = ratatui::Terminal::new(backend) else {
        return String::new();
    };
    if term.draw(|f| draw(f, m, p)).is_err() {
        return String::new();
    }
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[path = "chart.rs"]
mod chart;

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;

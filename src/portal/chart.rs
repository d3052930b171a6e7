//! Charts drawn on the server as SVG: no script, no library, nothing fetched. Each chart is an
//! image with a title and a description for screen readers, and its figures are also given as
//! a table.

use maud::{Markup, html};

/// One day's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Day {
    pub(crate) date: String,
    pub(crate) logins: i64,
    pub(crate) signups: i64,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The step between the axis's four gridlines: 1, 2 or 5 times a power of ten, so that four
/// steps reach `max`.
fn step(max: i64) -> i64 {
    let wanted = (max.max(1) + 3) / 4;
    let mut power = 1;
    loop {
        for factor in [1, 2, 5] {
            if power * factor >= wanted {
                return power * factor;
            }
        }
        power *= 10;
    }
}

fn points(days: &[Day], top: i64, value: impl Fn(&Day) -> i64) -> String {
    let span = (days.len().max(2) - 1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    days.iter()
        .enumerate()
        .map(|(i, day)| {
            let x = LEFT + plot_w * i as f64 / span;
            let y = TOP + plot_h * (1.0 - value(day) as f64 / top as f64);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Daily logins and sign-ups as two lines, with `id` naming its title for `aria-labelledby`.
pub(crate) fn daily(id: &str, caption: &str, days: &[Day]) -> Markup {
    let max = days
        .iter()
        .map(|d| d.logins.max(d.signups))
        .max()
        .unwrap_or(0);
    let step = step(max);
    let top = step * 4;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let total_logins: i64 = days.iter().map(|d| d.logins).sum();
    let total_signups: i64 = days.iter().map(|d| d.signups).sum();
    let description = format!(
        "{} days from {} to {}: {total_logins} logins and {total_signups} sign-ups in all; at most {max} in a day.",
        days.len(),
        days.first().map_or("", |d| d.date.as_str()),
        days.last().map_or("", |d| d.date.as_str()),
    );
    let ticks: Vec<i64> = (0..=4).map(|i| step * i).collect();
    // A label a week, and the last day's when it does not crowd the one before.
    let last = days.len().saturating_sub(1);
    let labelled: Vec<(usize, &Day)> = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 == 0 || (*i == last && last % 7 >= 3))
        .collect();
    let span = (days.len().max(2) - 1) as f64;
    html! {
        figure class="chart" {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(format!("{id}-title {id}-desc")) {
                title id=(format!("{id}-title")) { (caption) }
                desc id=(format!("{id}-desc")) { (description) }
                @for tick in &ticks {
                    @let y = TOP + plot_h * (1.0 - *tick as f64 / top as f64);
                    line class="grid" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(format!("{y:.1}")) y2=(format!("{y:.1}")) {}
                    text class="label" x=(LEFT - 6.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" { (tick) }
                }
                line class="axis" x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(HEIGHT - BOTTOM) {}
                line class="axis" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
                @for (i, day) in &labelled {
                    @let x = LEFT + (WIDTH - LEFT - RIGHT) * *i as f64 / span;
                    text class="label" x=(format!("{x:.1}")) y=(HEIGHT - 8.0) text-anchor="middle" {
                        (day.date.get(5..).unwrap_or(&day.date))
                    }
                }
                polyline class="line-logins" points=(points(days, top, |d| d.logins)) {}
                polyline class="line-signups" points=(points(days, top, |d| d.signups)) {}
            }
            figcaption class="legend" {
                span { span class="swatch logins" {} "Logins" }
                span { span class="swatch signups" {} "Sign-ups" }
            }
            details {
                summary { "The figures as a table" }
                div class="table-wrap" {
                    table {
                        caption class="muted" { (caption) }
                        thead { tr { th scope="col" { "Day" } th scope="col" class="num" { "Logins" } th scope="col" class="num" { "Sign-ups" } } }
                        tbody {
                            @for day in days {
                                tr { td { (day.date) } td class="num" { (day.logins) } td class="num" { (day.signups) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gridlines_fall_on_round_numbers() {
        assert_eq!(step(0), 1);
        assert_eq!(step(7), 2);
        assert_eq!(step(39), 10);
        assert_eq!(step(230), 100);
    }

    #[test]
    fn a_chart_describes_itself_and_keeps_its_figures() {
        let days = vec![
            Day {
                date: "2024-05-01".into(),
                logins: 4,
                signups: 1,
            },
            Day {
                date: "2024-05-02".into(),
                logins: 6,
                signups: 0,
            },
        ];
        let svg = daily("c", "Daily logins", &days).into_string();
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("10 logins and 1 sign-ups"));
        assert!(svg.contains("<td>2024-05-02</td>"));
        assert!(
            !svg.contains("style="),
            "no inline style: the CSP forbids it"
        );
    }
}

//! Times the questions about people (issue: live events and people): the people list and a
//! search, a person's 7-day timeline, a funnel's drop-offs and a 30-day daily retention.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::{ms, pct};
use crate::engine::Engine;
use crate::questions::funnels::{Outcome, Who};
use crate::questions::panels::{Range, Scope};
use crate::questions::retention::Question;

const MONTH: Range = Range::Span(30 * 86_400);
const WEEK: Range = Range::Span(7 * 86_400);

fn row(label: &str, times: &mut [Duration]) {
    println!(
        "| {label} | {} | {} |",
        ms(pct(times, 50)),
        ms(pct(times, 95))
    );
}

/// Runs `ask` `runs` times (run `i` passed in), timing each.
async fn time<F, Fut>(runs: usize, mut ask: F) -> Result<Vec<Duration>, String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        ask(i).await?;
        times.push(start.elapsed());
    }
    Ok(times)
}

/// A fresh instant each run: a question no cache has seen.
fn now(range: Range) -> Scope {
    Scope {
        at: Some(Utc::now()),
        ..Scope::new(range)
    }
}

pub(super) async fn people(engine: &Engine, stored: u64, runs: usize) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    println!("## People, drop-offs and retention, {stored} events stored ({runs} runs, cache bypassed)\n");
    println!("| question | p50 | p95 |");
    println!("|---|---|---|");
    let recent = engine
        .people
        .list(&now(Range::H24), "", 50)
        .await
        .map_err(|e| err(&e))?;
    let actors: Vec<String> = recent.people.iter().map(|p| p.actor.clone()).collect();
    if actors.is_empty() {
        return Err("no people to time: load events first".into());
    }
    let prefix: String = actors[0].chars().take(4).collect();
    for (label, search) in [
        ("people, last seen first (24h)", String::new()),
        ("people search by prefix", prefix),
    ] {
        let mut times = time(runs, |_| {
            let search = search.clone();
            async move {
                let scope = now(Range::H24);
                engine
                    .people
                    .list(&scope, &search, 50)
                    .await
                    .map(drop)
                    .map_err(|e| err(&e))
            }
        })
        .await?;
        row(label, &mut times);
    }
    let actor = |i: usize| actors[i % actors.len()].clone();
    let mut times = time(runs, |i| async move {
        let scope = now(WEEK);
        let actor = actor(i);
        let timeline = engine.people.timeline(&actor, &scope, None, 100).await;
        timeline.map(drop).map_err(|e| err(&e))
    })
    .await?;
    row("a person's 7-day timeline (100 events)", &mut times);
    for outcome in [Outcome::Dropped, Outcome::Reached] {
        let mut times = time(runs, |_| async move {
            let who = Who {
                step: 1,
                outcome,
                value: None,
                limit: 100,
            };
            let scope = now(Range::H24);
            let asked = engine.funnels.actors("signup", &scope, None, who).await;
            asked.map(drop).map_err(|e| err(&e))
        })
        .await?;
        row(
            &format!("signup funnel's actors, step 1 {outcome:?} (24h)"),
            &mut times,
        );
    }
    let question = Question::parse(|name| match name {
        "start_event" => Some("page_view"),
        "periods" => Some("30"),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    let mut times = time(runs, |_| async {
        let scope = now(MONTH);
        let answer = engine.retention.answer(&question, &scope).await;
        answer.map(drop).map_err(|e| err(&e))
    })
    .await?;
    row(
        "retention: 30 days by day, page_view then any event",
        &mut times,
    );
    println!();
    Ok(())
}

//! The per-minute views: backfilled when created after events exist, and equal to the raw
//! reference. In process, through the library: this is the one test in this binary that opens
//! chDB itself (chDB allows one engine per process).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use pulseboard::ingest::event;
use pulseboard::questions::filters::Filters;
use pulseboard::questions::panels::{Panel, PanelName, Panels, Range, Scope, Source};
use pulseboard::storage::batcher::Status;
use pulseboard::storage::store::{migrations, rowbinary, Embedded, Store};
use serde_json::json;

#[tokio::test]
async fn views_created_after_events_exist_are_backfilled_and_match_raw() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::Embedded(
        Embedded::open(dir.path(), "pulseboard").await.unwrap(),
    ));
    let (first, rest) = migrations::MIGRATIONS.split_at(1);
    assert_eq!(
        migrations::apply(&store, 90, first).await.unwrap(),
        vec!["001_events"]
    );

    // Events go into the raw table before any view exists.
    let at = Utc
        .timestamp_opt(Utc::now().timestamp() / 60 * 60 - 120, 500_000_000)
        .unwrap();
    let at_ms = at.timestamp_millis();
    let names = [
        "page_view",
        "feature_used",
        "signup_started",
        "signup_completed",
        "error_occurred",
    ];
    let features = ["export", "search", "alerts"];
    let countries = ["DE", "FR", "US"];
    let devices = ["mobile", "desktop"];
    let events: Vec<_> = (0..2000i64)
        .map(|i| {
            let value = json!({
                "event_name": names[(i % 5) as usize], "session_id": format!("s{}", i % 97),
                "user_id": (i % 3 == 0).then(|| format!("u{}", i % 41)),
                "timestamp": at_ms - (i * 7919 % 86_400_000),
                "properties": {"feature": features[(i % 7 % 3) as usize]},
                "country_code": countries[(i % 97 % 3) as usize],
                "device_type": devices[(i % 97 % 2) as usize],
            });
            event::validate(value, event::TimeBounds::new(at_ms, 90)).unwrap()
        })
        .collect();
    store
        .insert(rowbinary::encode_all(&events), "backfill-test-1")
        .await
        .unwrap();

    let applied = migrations::apply(&store, 90, rest).await.unwrap();
    assert_eq!(
        applied,
        vec![
            "002_minute_views",
            "003_compact_uniques",
            "004_quarter_rollups",
            "005_dimension_rollups",
            "006_hour_rollups",
            "007_grain_rollups",
            "008_dimension_grains"
        ]
    );
    // Applying again changes nothing.
    assert!(store.migrate(90).await.unwrap().is_empty());

    let panels = Panels::new(
        store.clone(),
        Arc::new(Status::default()),
        pulseboard::support::clock::Clock::system(),
    );
    // Unfiltered (the rollups' rows for every country and device, at every grain) and filtered
    // by country and device (the rows per country and device) alike.
    let filters = [
        vec![],
        vec![("country", "de")],
        vec![("device", "mobile")],
        vec![("country", "DE,US"), ("device", "desktop")],
    ];
    for filters in filters {
        let filters = Filters::parse(filters.iter().copied()).unwrap();
        for range in Range::ALL {
            for name in PanelName::ALL {
                let views = scope(range, Source::Views, &filters);
                let raw = scope(range, Source::Raw, &filters);
                let views = panels.compute(name, &views, at).await.unwrap();
                let raw = panels.compute(name, &raw, at).await.unwrap();
                assert_eq!(views, raw, "{} over {} {filters:?}", name.as_str(), range);
            }
        }
    }
    let total = stored(&panels, Source::Views, at).await;
    assert_eq!(
        total, 2000,
        "the backfill carried every event into the views"
    );

    // New events after the views exist reach them; replaying that insert (same token, as the
    // batcher does after a lost acknowledgement) changes neither the raw table nor any view.
    let later: Vec<_> = events[..300]
        .iter()
        .map(|e| event::Event {
            event_id: uuid::Uuid::new_v4(),
            ..e.clone()
        })
        .collect();
    for _ in 0..3 {
        store
            .insert(rowbinary::encode_all(&later), "backfill-test-2")
            .await
            .unwrap();
    }
    let germany = Filters::parse([("country", "DE")]).unwrap();
    for filters in [Filters::default(), germany] {
        for name in PanelName::ALL {
            let views = scope(Range::H24, Source::Views, &filters);
            let raw = scope(Range::H24, Source::Raw, &filters);
            let views = panels.compute(name, &views, at).await.unwrap();
            let raw = panels.compute(name, &raw, at).await.unwrap();
            assert_eq!(views, raw, "{} after replays {filters:?}", name.as_str());
        }
    }
    let after = stored(&panels, Source::Views, at).await;
    assert_eq!(after, 2300);
    store.close().await;
}

/// Events in the last 24 hours, from the error-rate panel's per-minute totals.
async fn stored(panels: &Panels, source: Source, at: chrono::DateTime<Utc>) -> u64 {
    let scope = scope(Range::H24, source, &Filters::default());
    match panels
        .compute(PanelName::ErrorRate, &scope, at)
        .await
        .unwrap()
    {
        Panel::ErrorRate(e) => e.series.iter().map(|m| m.total).sum(),
        other => panic!("unexpected {other:?}"),
    }
}

fn scope(range: Range, source: Source, filters: &Filters) -> Scope {
    Scope {
        source,
        filters: filters.clone(),
        ..Scope::new(range)
    }
}

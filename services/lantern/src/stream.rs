//! `lantern stream show` and `lantern stream apply`: the stream's
//! configuration, and the one explicit way to change it (DESIGN "Deployment
//! tiers": no other process changes an existing stream).

use std::fmt::Write as _;

use lantern_ledger::stream::{self, Applied, Difference};

use crate::config::{StoreArgs, stream_settings};

/// `(refused at start)` or `(harmless)`: what `serve` does about it.
fn verdict(d: &Difference) -> &'static str {
    match (d.is_refused(), d.is_changeable()) {
        (true, true) => "refused at start",
        (true, false) => {
            "refused at start; cannot be changed in place, the stream must be recreated"
        }
        (false, _) => "harmless",
    }
}

/// Prints the stream's configuration and how it differs from the one the
/// settings ask for; changes nothing.
pub async fn show(store: &StoreArgs) -> Result<(), Box<dyn std::error::Error>> {
    let client = lantern_ledger::connect(&store.nats()).await?;
    let settings = stream_settings(store, &client).await?;
    let seen = stream::inspect(client, &settings).await?;
    let mut out = format!(
        "stream {} ({} {})\n",
        seen.config.name,
        seen.messages,
        if seen.messages == 1 {
            "message"
        } else {
            "messages"
        }
    );
    for (name, value) in stream::describe(&seen.config) {
        writeln!(out, "  {name:<22} {value}")?;
    }
    if seen.differences.is_empty() {
        out.push_str("differences from the configuration: none\n");
    } else {
        out.push_str("differences from the configuration:\n");
        for d in &seen.differences {
            writeln!(out, "  - {d} ({})", verdict(d))?;
        }
        out.push_str("`lantern stream apply` changes what can be changed in place\n");
    }
    print!("{out}");
    Ok(())
}

/// Creates the stream, or brings it to the configuration, and prints what
/// it changed.
pub async fn apply(store: &StoreArgs) -> Result<(), Box<dyn std::error::Error>> {
    let client = lantern_ledger::connect(&store.nats()).await?;
    let settings = stream_settings(store, &client).await?;
    match stream::apply(client, &settings).await? {
        Applied::Created => {
            println!("created stream {}:", lantern_ledger::STREAM);
            for (name, value) in stream::describe(&stream::config(&settings)) {
                println!("  {name:<22} {value}");
            }
        }
        Applied::Changed(changed) => {
            println!(
                "changed stream {} to the configuration; before, it:",
                lantern_ledger::STREAM
            );
            for d in changed {
                println!("  - {d}");
            }
        }
        Applied::Unchanged => println!(
            "stream {} already matches the configuration; nothing changed",
            lantern_ledger::STREAM
        ),
    }
    Ok(())
}

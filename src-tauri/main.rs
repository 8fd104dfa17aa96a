use clap::Parser;
use pulseboard::cli::{self, Cli, Command};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "pulseboard=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if cli.command.is_none() {
        pulseboard::app::prepare_environment();
    }
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    let result = match cli.command {
        // The window owns the main thread (GTK); the engine runs on the runtime's workers.
        None => pulseboard::app::run(cli.window, runtime),
        Some(command) => runtime.block_on(async {
            match command {
                Command::Serve(args) => cli::serve(args).await,
                Command::Demo(args) => cli::demo(args).await,
                Command::Export(args) => cli::export(args).await,
                Command::Bench(args) => pulseboard::cli::bench::run(args).await.map_err(Into::into),
                Command::Profile { command } => {
                    pulseboard::storage::profiles::cli::run(command, None)
                        .await
                        .map_err(Into::into)
                }
                Command::Engine { command } => pulseboard::storage::libchdb::cli::run(command)
                    .await
                    .map_err(Into::into),
            }
        }),
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

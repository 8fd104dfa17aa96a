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
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Serve(args)) => cli::serve(args).await,
            Some(Command::Demo(args)) => cli::demo(args).await,
            Some(Command::Bench(args)) => pulseboard::bench::run(args).await,
            Some(Command::Profile { command }) => {
                pulseboard::profiles::cli::run(command, None).await
            }
            None => Err("the desktop window is not built yet; run `pulseboard serve`".into()),
        }
    });
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

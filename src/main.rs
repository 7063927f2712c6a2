//! The `cachet` binary: parses `cachet [CONFIG_FILE] [--directive value ...]`
//! the way `redis-server` does, then runs the server until SHUTDOWN or a signal.

use cachet::{Config, Server};

// jemalloc serves the binary; its statistics become INFO's used_memory.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use clap::{Arg, ArgAction, Command};
use tracing_subscriber::EnvFilter;

fn cli() -> Command {
    Command::new("cachet")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A Redis-compatible cache server")
        .override_usage("cachet [CONFIG_FILE] [--directive value ...]\n       cachet --port 7000 --maxmemory 100mb\n       cachet conf/cachet.conf --port 7001")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("args")
                .num_args(0..)
                .allow_hyphen_values(true)
                .trailing_var_arg(true)
                .action(ArgAction::Append)
                .help("An optional config file, then any directive as --name value"),
        )
}

fn log_filter(level: &str) -> EnvFilter {
    let level = match level {
        "debug" => "debug",
        "verbose" => "info",
        "warning" => "warn",
        "nothing" => "off",
        _ => "info",
    };
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level))
}

fn main() -> std::process::ExitCode {
    #[cfg(feature = "jemalloc")]
    cachet::stats::memory::use_jemalloc_statistics();
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "-h" || a == "--help") {
        let _ = cli().print_help();
        println!();
        return std::process::ExitCode::SUCCESS;
    }
    if raw.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "cachet {} (redis {} compatible)",
            env!("CARGO_PKG_VERSION"),
            cachet::REDIS_VERSION
        );
        return std::process::ExitCode::SUCCESS;
    }
    let matches = cli().get_matches_from(std::iter::once("cachet".to_string()).chain(raw));
    let args: Vec<String> = matches
        .get_many::<String>("args")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("\n{}", error);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(&config.loglevel))
        .with_target(false)
        .init();
    // `io-threads 0` (the default) takes every core but one: cachet runs
    // beside the application it caches for, which keeps a core of its own
    // (and its clients' system calls run there). Even one worker is a
    // multi-thread runtime: a script that runs past busy-reply-threshold
    // hands its worker's place to a new thread (`block_in_place`), so that
    // other clients are answered BUSY meanwhile; a current-thread runtime
    // cannot do that.
    let threads = match config.io_threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1),
        n => n,
    };
    let runtime = match cachet::server::runtime_builder(threads).build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {}", error);
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let server = Server::bind(config).await?;
        tracing::info!(
            "cachet {} ready to accept connections on {}",
            env!("CARGO_PKG_VERSION"),
            server.local_addr()
        );
        let shared = server.shared();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Received SIGINT scheduling shutdown...");
            shared.request_shutdown();
        });
        server.run().await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", error);
            std::process::ExitCode::FAILURE
        }
    }
}

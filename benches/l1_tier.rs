//! The L1 tier benchmark (issue 6): clients talking to an upstream
//! redis-server directly, against clients talking to cachet in front of it,
//! with 1 ms of simulated network round trip between the clients' host and
//! the upstream.
//!
//! ```text
//! cargo build --release
//! cargo bench --bench l1_tier -- [--rounds 3] [--seconds 5] [--clients 8] [--keys 10000]
//! ```
//!
//! - The upstream is a redis-server child on a free port. `tc netem` is not
//!   available here, so a relay on loopback (threads in this process)
//!   holds each chunk 0.5 ms in each direction: 1 ms per round trip.
//! - The direct side's clients connect through the relay. cachet (the
//!   release binary, `CACHET_BIN` to override) runs as its own process
//!   beside the clients, its upstream link through the relay.
//! - The workload: `--clients` connections, each one request at a time,
//!   90% GET / 10% SET over `--keys` keys drawn from a Zipf distribution
//!   (exponent 1), values of 64 bytes. Both sides start from the same
//!   preloaded upstream.
//! - Rounds alternate which side runs first; the table gives medians over
//!   rounds of throughput and of read/write p50 and p99 (hdrhistogram), and
//!   cachet's L1 hit ratio over the measured period.
//!
//! - Then the invalidation lag on loopback (no relay): a second cachet in
//!   front of the same redis-server; a client reads a key through it, a
//!   second client changes the key in redis-server directly, and the first
//!   polls cachet until it serves the new value. The table gives the time
//!   from the write's acknowledgement to the first fresh read.
//!
//! It measures and prints; it asserts nothing.

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const ONE_WAY_DELAY: Duration = Duration::from_micros(500);
const VALUE: &str = "0123456789012345678901234567890123456789012345678901234567890123";

struct Options {
    rounds: usize,
    seconds: u64,
    clients: usize,
    keys: usize,
}

fn options() -> Options {
    let mut options = Options {
        rounds: 3,
        seconds: 5,
        clients: 8,
        keys: 10_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (args[i].as_str(), value) {
            ("--rounds", Some(v)) => options.rounds = v.max(1) as usize,
            ("--seconds", Some(v)) => options.seconds = v.max(1),
            ("--clients", Some(v)) => options.clients = v.max(1) as usize,
            ("--keys", Some(v)) => options.keys = v.max(1) as usize,
            // `cargo bench` passes --bench; anything else unknown is ignored.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {}", port);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Forwards every connection to `target`, each chunk held `ONE_WAY_DELAY`.
fn start_relay(target: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("relay bind");
    let port = listener.local_addr().expect("relay addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            delayed_pipe(client, server2);
            delayed_pipe(server, client2);
        }
    });
    port
}

/// One direction: a reader thread stamps chunks, a writer thread sends each
/// when its time comes (so delays overlap, as on a wire, instead of adding up).
fn delayed_pipe(mut from: TcpStream, mut to: TcpStream) {
    let (sender, receiver) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sender
                        .send((Instant::now() + ONE_WAY_DELAY, buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        while let Ok((due, chunk)) = receiver.recv() {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// Key ranks drawn from Zipf(1) over `n` keys by inverting the CDF.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / rank as f64;
            cdf.push(total);
        }
        for c in cdf.iter_mut() {
            *c /= total;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let u: f64 = rng.random();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

#[derive(Default, Clone)]
struct Result {
    ops_per_sec: f64,
    read_p50_us: f64,
    read_p99_us: f64,
    write_p50_us: f64,
    write_p99_us: f64,
    hit_ratio: Option<f64>,
}

async fn connect(port: u16) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{}", port)).expect("url");
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(5)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("connect")
}

async fn info_counter(con: &mut redis::aio::MultiplexedConnection, field: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("upstream")
        .query_async(con)
        .await
        .unwrap_or_default();
    info.lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

async fn run_side(port: u16, options: &Options, zipf: Arc<Zipf>, is_cachet: bool) -> Result {
    let mut admin = connect(port).await;
    let hits_before = info_counter(&mut admin, "upstream_l1_hits").await;
    let misses_before = info_counter(&mut admin, "upstream_l1_misses").await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for seed in 0..options.clients {
        let mut con = connect(port).await;
        let zipf = zipf.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(seed as u64 + 1);
            let mut reads = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut writes = reads.clone();
            let mut ops = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("key:{}", zipf.sample(&mut rng));
                let write = rng.random_range(0..10) == 0;
                let started = Instant::now();
                let outcome = if write {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(VALUE)
                        .query_async::<()>(&mut con)
                        .await
                } else {
                    redis::cmd("GET")
                        .arg(&key)
                        .query_async::<Option<String>>(&mut con)
                        .await
                        .map(|_| ())
                };
                let micros = started.elapsed().as_micros() as u64;
                if let Err(error) = outcome {
                    panic!("benchmark command failed: {}", error);
                }
                let histogram = if write { &mut writes } else { &mut reads };
                let _ = histogram.record(micros.max(1));
                ops += 1;
            }
            (ops, reads, writes)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut reads = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut writes = reads.clone();
    let mut ops = 0;
    for task in tasks {
        let (n, r, w) = task.await.expect("client task");
        ops += n;
        reads.add(r).expect("same bounds");
        writes.add(w).expect("same bounds");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let hit_ratio = if is_cachet {
        let hits = info_counter(&mut admin, "upstream_l1_hits").await - hits_before;
        let misses = info_counter(&mut admin, "upstream_l1_misses").await - misses_before;
        Some(hits as f64 / (hits + misses).max(1) as f64)
    } else {
        None
    };
    Result {
        ops_per_sec: ops as f64 / elapsed,
        read_p50_us: reads.value_at_quantile(0.5) as f64,
        read_p99_us: reads.value_at_quantile(0.99) as f64,
        write_p50_us: writes.value_at_quantile(0.5) as f64,
        write_p99_us: writes.value_at_quantile(0.99) as f64,
        hit_ratio,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn summarize(results: &[Result]) -> Result {
    let pick = |f: fn(&Result) -> f64| median(results.iter().map(f).collect());
    Result {
        ops_per_sec: pick(|r| r.ops_per_sec),
        read_p50_us: pick(|r| r.read_p50_us),
        read_p99_us: pick(|r| r.read_p99_us),
        write_p50_us: pick(|r| r.write_p50_us),
        write_p99_us: pick(|r| r.write_p99_us),
        hit_ratio: results
            .iter()
            .filter_map(|r| r.hit_ratio)
            .map(Some)
            .reduce(|a, b| Some(a? + b?))
            .flatten()
            .map(|sum| sum / results.len() as f64),
    }
}

/// Write-acknowledged-to-fresh-read delays through a cachet on loopback, in µs.
async fn invalidation_lag(cachet_port: u16, redis_port: u16, samples: usize) -> Vec<u64> {
    let mut l1 = connect(cachet_port).await;
    let mut direct = connect(redis_port).await;
    let mut lags = Vec::with_capacity(samples);
    for i in 0..samples {
        let key = format!("lag:{}", i % 16);
        let _: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut l1)
            .await
            .expect("GET through cachet");
        let value = format!("v{}", i);
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .query_async(&mut direct)
            .await
            .expect("direct SET");
        let written = Instant::now();
        loop {
            let seen: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut l1)
                .await
                .expect("GET through cachet");
            if seen.as_deref() == Some(value.as_str()) {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "{} stayed stale",
                key
            );
        }
        lags.push(written.elapsed().as_micros() as u64);
    }
    lags.sort_unstable();
    lags
}

fn main() {
    // `cargo test --all-targets` runs this target too, without `--bench`:
    // the benchmark only runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("l1_tier: a benchmark; run it with `cargo bench --bench l1_tier`");
        return;
    }
    let options = options();
    let redis_port = free_port();
    let _redis = Process(
        Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--save",
                "",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed"),
    );
    wait_for_port(redis_port);
    let relay_port = start_relay(redis_port);
    let cachet_bin = std::env::var("CACHET_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/cachet").to_string()
    });
    let cachet_port = free_port();
    let _cachet = Process(
        Command::new(&cachet_bin)
            .args(["--port", &cachet_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--upstream", &format!("redis://127.0.0.1:{}", relay_port)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {} (cargo build --release): {}", cachet_bin, e)
            }),
    );
    wait_for_port(cachet_port);
    let loopback_port = free_port();
    let _loopback_cachet = Process(
        Command::new(&cachet_bin)
            .args(["--port", &loopback_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--upstream", &format!("redis://127.0.0.1:{}", redis_port)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {}", cachet_bin, e)),
    );
    wait_for_port(loopback_port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut con = connect(redis_port).await;
        for chunk in (0..options.keys).collect::<Vec<_>>().chunks(1000) {
            let mut pipe = redis::pipe();
            for i in chunk {
                pipe.cmd("SET").arg(format!("key:{}", i)).arg(VALUE).ignore();
            }
            let _: () = pipe.query_async(&mut con).await.expect("preload");
        }
        let mut link = connect(cachet_port).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info: String = redis::cmd("INFO")
                .arg("upstream")
                .query_async(&mut link)
                .await
                .unwrap_or_default();
            if info.contains("upstream_link_status:up") {
                break;
            }
            assert!(Instant::now() < deadline, "cachet's upstream link did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let zipf = Arc::new(Zipf::new(options.keys));
        let mut direct = Vec::new();
        let mut l1 = Vec::new();
        for round in 0..options.rounds {
            let cachet_first = round % 2 == 1;
            for side in 0..2 {
                let run_cachet = (side == 0) == cachet_first;
                if run_cachet {
                    l1.push(run_side(cachet_port, &options, zipf.clone(), true).await);
                } else {
                    direct.push(run_side(relay_port, &options, zipf.clone(), false).await);
                }
            }
            eprintln!("round {} done", round + 1);
        }
        let d = summarize(&direct);
        let c = summarize(&l1);
        println!(
            "{} rounds of {} s, {} clients, {} keys (Zipf 1), 90% GET / 10% SET, 1 ms upstream RTT",
            options.rounds, options.seconds, options.clients, options.keys
        );
        println!();
        println!("| clients talk to | ops/s | read p50 | read p99 | write p50 | write p99 | L1 hit ratio |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (name, r) in [("upstream directly", &d), ("cachet (L1) in front", &c)] {
            println!(
                "| {} | {:.0} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {} |",
                name,
                r.ops_per_sec,
                r.read_p50_us,
                r.read_p99_us,
                r.write_p50_us,
                r.write_p99_us,
                r.hit_ratio
                    .map(|h| format!("{:.1}%", h * 100.0))
                    .unwrap_or_else(|| "-".into())
            );
        }
        println!();
        println!(
            "cachet / direct: throughput {:.2}x, read p50 {:.3}x, write p50 {:.2}x",
            c.ops_per_sec / d.ops_per_sec,
            c.read_p50_us / d.read_p50_us,
            c.write_p50_us / d.write_p50_us
        );
        let lags = invalidation_lag(loopback_port, redis_port, 1000).await;
        let at = |q: f64| lags[((lags.len() - 1) as f64 * q) as usize];
        println!();
        println!(
            "Invalidation lag on loopback ({} writes by another client): p50 {} µs, p99 {} µs, max {} µs",
            lags.len(),
            at(0.5),
            at(0.99),
            lags[lags.len() - 1]
        );
    });
}

//! The `pixflow` binary: logging, configuration once, then the chosen command.

use clap::{Parser, Subcommand};
use pixflow::config::{Config, Role, ServeArgs};
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

#[derive(Parser)]
#[command(name = "pixflow", version, about = "On-the-fly image transformer: URL in, image out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve images over HTTP (default source: the embedded samples).
    Serve(ServeArgs),
    /// Serve Lambda Function URL invocations (chosen automatically when AWS_LAMBDA_RUNTIME_API is set).
    #[command(hide = true)]
    Lambda(ServeArgs),
    /// Transform one file: `pixflow transform IN OUT --options w_200,h_200,c_fill`.
    Transform {
        /// Input image.
        input: PathBuf,
        /// Output file; its extension picks the format unless the options give `f_`.
        output: PathBuf,
        /// Options in path syntax.
        #[arg(long, default_value = "")]
        options: String,
        /// Give the encoder this quality as it is, instead of mapping `q_N` from JPEG's scale
        /// (scripts/calibrate-quality measures each encoder's own scale with it).
        #[arg(long, hide = true)]
        encoder_quality: Option<u8>,
    },
    /// Print the q_auto features of each image, a JSON line each (scripts/fit-q-auto fits the
    /// model on them).
    #[command(hide = true)]
    QualityFeatures {
        /// Images, as about to be encoded (a lossless render).
        inputs: Vec<PathBuf>,
    },
    /// Print the cost and memory estimate of one transform beside a real run of it, as JSON:
    /// `pixflow cost IN --options w_800,f_avif` (scripts/cost prints a table of them).
    Cost {
        /// Input image.
        input: PathBuf,
        /// Options in path syntax.
        #[arg(long, default_value = "")]
        options: String,
    },
    /// Delete every stored variant of KEY and print the CloudFront path that clears the edge.
    Purge {
        /// The original's key, e.g. `photos/cat.jpg`.
        key: String,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Pre-generate variants into the result store: `pixflow warm --variant w_200,h_200,c_fill`.
    Warm {
        /// Options of one variant (path syntax, or `t_NAME`); repeat for several.
        #[arg(long = "variant", required = true)]
        variants: Vec<String>,
        /// A file with one key a line; default: every key of the source.
        #[arg(long)]
        keys_file: Option<PathBuf>,
        /// Variants rendered at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Print the origin form CloudFront forwards for PATH (`/w_200/cat.jpg?fit=cover`), or the error.
    Canonical {
        /// Path and query as a client sends them.
        path: String,
        /// The client's Accept header, for `f_auto`.
        #[arg(long, default_value = "")]
        accept: String,
        /// A client hint header, `NAME: VALUE` (`Sec-CH-DPR: 2`), for `dpr_auto` and `w_auto`;
        /// repeatable.
        #[arg(long = "header")]
        headers: Vec<String>,
    },
    /// Print a signed URL path for PATH (`/w_200/cat.jpg`).
    Sign {
        /// The path to sign.
        path: String,
        /// The signing secret.
        #[arg(long, env = "PIXFLOW_SECRET", hide_env_values = true)]
        secret: String,
        /// Make the URL expire this many seconds from now.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// Benchmark runner for ../shared/bench/compare.py: `pixflow bench TASK LISTFILE REPS [OUTDIR]`.
    Bench {
        /// T1..T6.
        task: String,
        /// File listing one image path a line.
        list: PathBuf,
        /// Timed passes after one warm-up pass.
        reps: usize,
        /// Write each output of the first timed pass here (for quality comparisons).
        out_dir: Option<PathBuf>,
        /// Time the floor instead: libjpeg-turbo decode at the same DCT scale + the same encode.
        #[arg(long)]
        floor: bool,
    },
}

fn main() -> ExitCode {
    // A sandbox child (transform/sandbox.rs) before anything else: no logging, no configuration.
    let args: Vec<String> = std::env::args().skip(1).take(3).collect();
    if args.first().map(String::as_str) == Some(pixflow::transform::sandbox::CHILD_ARG) {
        return pixflow::transform::sandbox::child_main(&args[1..]);
    }
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "pixflow=info".into());
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if on_lambda {
        // CloudWatch reads one JSON object a line; the span carries the request id.
        logs.json().with_current_span(true).without_time().init();
    } else {
        logs.init();
    }
    // On Lambda the configuration comes from the environment only.
    let command = if on_lambda { Cli::parse_from(["pixflow", "lambda"]) } else { Cli::parse() }.command;
    let result = match command {
        Command::Serve(args) => Config::from_args(&args).map_err(|e| e.to_string()).and_then(cli::serve),
        Command::Lambda(args) => {
            Config::from_args_as(&args, Role::Lambda).map_err(|e| e.to_string()).and_then(cli::lambda)
        }
        Command::Transform { input, output, options, encoder_quality } => {
            cli::transform(&input, &output, &options, encoder_quality)
        }
        Command::Cost { input, options } => cli::cost(&input, &options),
        Command::QualityFeatures { inputs } => cli::quality_features(&inputs),
        Command::Purge { key, args } => {
            Config::from_args(&args).map_err(|e| e.to_string()).and_then(|c| cli::purge(c, &key))
        }
        Command::Warm { variants, keys_file, concurrency, args } => Config::from_args_as(&args, Role::Warm)
            .map_err(|e| e.to_string())
            .and_then(|c| cli::warm(c, &variants, keys_file.as_deref(), concurrency)),
        Command::Canonical { path, accept, headers } => cli::canonical(&path, &accept, &headers),
        Command::Sign { path, secret, expires_in } => cli::sign(&path, &secret, expires_in),
        Command::Bench { task, list, reps, out_dir, floor } => {
            cli::bench(&task, &list, reps, out_dir.as_deref(), floor)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pixflow: {message}");
            ExitCode::FAILURE
        }
    }
}

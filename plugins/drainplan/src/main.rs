use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = kubectl_drainplan::Args::parse();
    common::run::main_with(|| kubectl_drainplan::run(args))
}

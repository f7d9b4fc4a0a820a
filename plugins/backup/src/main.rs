use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = kubectl_backup::Args::parse();
    common::run::main_with(|| kubectl_backup::run(args))
}

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = kubectl_rotate::Args::parse();
    common::run::main_with(|| kubectl_rotate::run(args))
}

fn main() {
    std::process::exit(tgsess::cli::main());
}

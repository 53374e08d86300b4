//! `cargo run -p kiln --example agent_build -- MODEL.af OUT/libNAME.a [obj]`: the agent part
//! of `kiln build`, usable before the CLI wires it (bench/agents uses it).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: agent_build MODEL.af OUT/libNAME.a [obj]");
        std::process::exit(2);
    }
    let emit = if args.get(2).map(String::as_str) == Some("obj") {
        kiln::agent::AgentEmit::Obj
    } else {
        kiln::agent::AgentEmit::StaticLib
    };
    std::process::exit(kiln::agent::run_build_agent(
        args[0].as_ref(),
        args[1].as_ref(),
        emit,
        kiln::agent::Ui { quiet: false, color: false },
    ));
}

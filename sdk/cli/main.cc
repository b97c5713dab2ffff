// The `writ` command-line tool. All logic lives in the writ_cli library so
// tests can run commands in-process.

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "sdk/cli/commands.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  writ::cli::CommandEnv env{&std::cin, &std::cout, &std::cerr};
  env.in_is_terminal = isatty(STDIN_FILENO) == 1;
  const int code = writ::cli::RunWrit(args, env);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "writ: writing to standard output failed\n";
    return writ::cli::kExitFailure;
  }
  return code;
}

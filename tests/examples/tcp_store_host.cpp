// Hosts the rendezvous store of multi-process test runs, as torchrun's agent
// hosts it: a c10d::TCPStore on 127.0.0.1 at a port the system picks when it
// binds, written to PORT_FILE (whole, by a rename) once the store listens.
// The ranks then join it with MASTER_PORT set to that port and
// TORCHELASTIC_USE_AGENT_STORE=True; no other program can take the port
// between its choice and its use. Serves until killed.
//
//   tcp_store_host PORT_FILE

#include <torchclr/detail/c10d.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tcp_store_host PORT_FILE\n");
    return 2;
  }
  try {
    const auto store = torchclr::detail::make_tcp_store(
        "127.0.0.1", 0, /*is_server=*/true, 1, std::chrono::seconds(60));
    const std::string path = argv[1];
    std::ofstream(path + ".tmp")
        << dynamic_cast<const ::c10d::TCPStore&>(*store).getPort() << "\n";
    if (std::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
      std::fprintf(stderr, "tcp_store_host: cannot write %s\n", path.c_str());
      return 1;
    }
    for (;;) {
      ::pause();
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tcp_store_host: %s\n", error.what());
    return 1;
  }
}

// The schema of a node's configuration: every section and key the `plume` command knows, with
// its type. Validation fails on the first problem with the key path, its file and what was
// expected, so that a typo (paginat) or a wrong type (port: "abc") stops the node at start.
#pragma once

#include "config/config_tree.hpp"

namespace plume::config {

// Throws ConfigError for the first unknown key, wrong type or bad value in `tree`.
void validate_config(const ConfigTree& tree);

}  // namespace plume::config

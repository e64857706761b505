// Command terraform-provider-pmgtm serves the pmgtm Terraform provider. The same
// binary is the node agent when invoked as pmgtm-agent (the release installs it
// under that name) or with "agent" as its first argument.
package main

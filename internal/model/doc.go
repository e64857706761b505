// Package model holds the plan-time rules for pmgtm's Terraform objects as
// plain Go, so they are tested without Terraform and give the same
// messages everywhere.
package model

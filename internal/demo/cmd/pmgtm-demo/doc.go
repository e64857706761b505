// Command pmgtm-demo runs the demo (make demo).
package main

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

func (a *app) policyCmd() *cobra.Command {
	c := a.parent("policy", "List and change sign-on and password policies (YAML/JSON files)",
		a.policyListCmd(),
		a.policyFileCmd("apply", "Create or replace the policies of a file (matched by kind and name)", directory.PolicyUpsert),
		a.policyFileCmd("create", "Create the policies of a file; refuse any that exists", directory.PolicyCreateOnly),
		a.policyFileCmd("update", "Replace the policies of a file; refuse any that does not exist", directory.PolicyUpdateOnly),
		a.policyDeleteCmd(),
	)
	c.Long = `An org's sign-on policies decide who may sign in, from where, and whether a
second factor is required; its password policies set strength, history, age and
lockout. Policies are YAML or JSON files (one policy or a list per document),
so they can be kept in version control: 'dirgate policy list --output yaml'
writes what 'dirgate policy apply -f' reads. A file applies whole or not at
all, and every group and user it names must exist. Without policies the
built-in defaults apply: sign-on allowed without MFA; passwords of at least 8
characters, lockout after 10 failed attempts.`
	return c
}

func (a *app) policyListCmd() *cobra.Command {
	var t target
	var format string
	c := &cobra.Command{
		Use:   "list (--data DIR --org ORG | --server URL) [--output table|yaml|json]",
		Short: "List the org's policies",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			switch format {
			case "table", "yaml", "json":
			default:
				return usagef("--output must be table, yaml or json, not %q", format)
			}
			return a.withBackend(&t, func(ctx context.Context, b backend) error {
				ps, err := b.Policies(ctx, t.org)
				if err != nil {
					return err
				}
				return writePolicies(a.stdout, ps, format)
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVar(&format, "output", "table", "`FORMAT`: table, yaml (what apply reads) or json")
	return c
}

func writePolicies(w io.Writer, ps []policy.Policy, format string) error {
	switch format {
	case "yaml":
		b, err := policy.Encode(ps)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "json":
		if ps == nil {
			ps = []policy.Policy{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(w, "no policies: the built-in defaults apply")
		return nil
	}
	fmt.Fprintf(w, "%-9s %-8s %-9s %-4s %s\n", "KIND", "PRIORITY", "STATUS", "RULES", "NAME")
	for _, p := range ps {
		fmt.Fprintf(w, "%-9s %-8d %-9s %-5d %s\n", p.Kind, p.Priority, p.Status, len(p.Rules), p.Name)
	}
	return nil
}

func (a *app) policyFileCmd(use, short string, mode directory.PolicyMode) *cobra.Command {
	var t target
	var file string
	c := &cobra.Command{
		Use:     use + " (--data DIR --org ORG | --server URL) -f FILE",
		Short:   short,
		Example: "  dirgate policy " + use + " --org example -f policies.yaml",
		Args:    cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			data, err := a.readFileArg(file)
			if err != nil {
				return err
			}
			ps, err := policy.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			return a.withBackend(&t, func(ctx context.Context, b backend) error {
				res, err := b.ApplyPolicies(ctx, t.org, ps, mode)
				if err != nil {
					return err
				}
				for _, x := range []struct {
					what  string
					names []string
				}{{"created", res.Created}, {"updated", res.Updated}, {"unchanged", res.Unchanged}} {
					if len(x.names) > 0 {
						fmt.Fprintf(a.stdout, "%s: %s\n", x.what, strings.Join(x.names, ", "))
					}
				}
				return nil
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVarP(&file, "file", "f", "", "policy `FILE` (YAML or JSON; - for stdin)")
	c.MarkFlagRequired("file")
	return c
}

// readFileArg reads a file named on the command line, or stdin for "-".
func (a *app) readFileArg(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(a.stdin, 4<<20))
	}
	return os.ReadFile(name)
}

func (a *app) policyDeleteCmd() *cobra.Command {
	var t target
	var kind, name string
	c := &cobra.Command{
		Use:   "delete (--data DIR --org ORG | --server URL) --kind sign-on|password --name NAME",
		Short: "Delete a policy",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			k := policy.Kind(strings.ToLower(kind))
			if k != policy.KindSignOn && k != policy.KindPassword {
				return usagef("--kind must be sign-on or password, not %q", kind)
			}
			return a.withBackend(&t, func(ctx context.Context, b backend) error {
				if err := b.DeletePolicy(ctx, t.org, k, name); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted %s policy %s\n", k, name)
				return nil
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVar(&kind, "kind", "", "the policy's `KIND`: sign-on or password")
	c.Flags().StringVar(&name, "name", "", "the policy's `NAME`")
	c.MarkFlagRequired("kind")
	c.MarkFlagRequired("name")
	return c
}

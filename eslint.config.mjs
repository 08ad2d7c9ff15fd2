// Lint rules that keep the project fast and the modules honest.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "cdktf.out/", "coverage/", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cdktf/provider-aws",
              message:
                "Import provider classes from '@cdktf/provider-aws/lib/<resource>': the package root costs ~5 s and ~550 MB per process.",
            },
            {
              name: "@cdktf/provider-aws/lib",
              message: "Import provider classes from '@cdktf/provider-aws/lib/<resource>'.",
            },
          ],
        },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["modules/**/*.ts", "environments/**/*.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Modules and environments are plain inputs: read the process environment in main.ts only.",
        },
      ],
    },
  },
);

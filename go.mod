module github.com/dirgate/dirgate

go 1.26
